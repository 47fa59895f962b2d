// Versions printed by `--version` and written into state and `spec` output.
export const TSRUN_VERSION = '0.1.0';
/**
 * The runtime-spec version whose schema spec/ encodes, and the newest whose
 * additions tsrun implements (1.3: linux.netDevices, linux.memoryPolicy; Intel RDT,
 * old fields and new, needs a resctrl filesystem and is refused as a whole).
 */
export const OCI_VERSION = '1.3.0';
