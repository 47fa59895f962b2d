// Linux security module labels: the AppArmor profile or SELinux label the process
// gets at its execve, and the SELinux label of the keys it creates. Each is one
// write into a procfs attribute file of this thread.
#include <errno.h>

#include <string>

#include "init.hpp"

namespace init {

// execLabel <apparmor|selinux> <label>
void OpExecLabel(const Args& a) {
  const std::string &lsm = a[0], &label = a[1];
  std::string object = lsm + " label " + label;
  if (lsm == "apparmor") {
    // The AppArmor directory first (kernels with several LSMs stacked), then the
    // shared file older kernels have; the profile applies at the next execve.
    if (!WriteProcFile(object, "/proc/thread-self/attr/apparmor/exec", "exec " + label, true)) {
      WriteProcFile(object, "/proc/thread-self/attr/exec", "exec " + label, false);
    }
    return;
  }
  if (lsm == "selinux") {
    WriteProcFile(object, "/proc/thread-self/attr/exec", label, false);
    return;
  }
  FailMessage("execLabel: unknown security module \"" + lsm + "\"");
}

// keyLabel <selinux label>: before the session keyring is made, so it carries it.
void OpKeyLabel(const Args& a) {
  WriteProcFile("selinux key label " + a[0], "/proc/thread-self/attr/keycreate", a[0], false);
}

}  // namespace init
