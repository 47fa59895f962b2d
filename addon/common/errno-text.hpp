// How the addon and the init name an errno (and a signal) in their messages: "ENOENT (no such file
// or directory)". The description is strerror's with a lower-case first letter, as Go
// (runc) words errnos: the docker CLI picks its exit status 127 or 126 by looking,
// case-sensitively, for "no such file or directory" or "permission denied".
#pragma once

#include <signal.h>
#include <string.h>

#include <string>

namespace tsrun_common {

inline std::string ErrnoName(int err) {
  const char* name = strerrorname_np(err);
  return name ? name : "E" + std::to_string(err);
}

// strerror's words with a lower-case first letter: Go's ("no such file or directory").
inline std::string ErrnoDescription(int err) {
  std::string description = strerror(err);
  if (!description.empty() && description[0] >= 'A' && description[0] <= 'Z') description[0] = static_cast<char>(description[0] - 'A' + 'a');
  return description;
}

inline std::string ErrnoText(int err) { return ErrnoName(err) + " (" + ErrnoDescription(err) + ")"; }

// A signal as Go words it in a wait status ("signal: bad system call"): strsignal's
// text with a lower-case first letter where the word is not an acronym ("CPU time
// limit exceeded", "I/O possible" stay), and "signal <n>" past SIGSYS (the real-time
// ones, and the two glibc keeps below SIGRTMIN, which strsignal calls unknown).
inline std::string SignalText(int sig) {
  if (sig < 1 || sig > SIGSYS) return "signal " + std::to_string(sig);
  std::string description = strsignal(sig);
  if (description.size() > 1 && description[0] >= 'A' && description[0] <= 'Z' && !(description[1] >= 'A' && description[1] <= 'Z') &&
      description[1] != '/')
    description[0] = static_cast<char>(description[0] - 'A' + 'a');
  return description;
}

}  // namespace tsrun_common
