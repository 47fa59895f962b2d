// Versions printed by `--version` and written into state and `spec` output.
export const TSRUN_VERSION = '0.1.0';
/** The runtime-spec version whose schema spec/ encodes. */
export const OCI_VERSION = '1.2.0';
