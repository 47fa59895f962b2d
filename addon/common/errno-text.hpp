// How the addon and the init name an errno in their messages: "ENOENT (no such file
// or directory)". The description is strerror's with a lower-case first letter, as Go
// (runc) words errnos: the docker CLI picks its exit status 127 or 126 by looking,
// case-sensitively, for "no such file or directory" or "permission denied".
#pragma once

#include <string.h>

#include <string>

namespace tsrun_common {

inline std::string ErrnoName(int err) {
  const char* name = strerrorname_np(err);
  return name ? name : "E" + std::to_string(err);
}

inline std::string ErrnoText(int err) {
  std::string description = strerror(err);
  if (!description.empty() && description[0] >= 'A' && description[0] <= 'Z') description[0] = static_cast<char>(description[0] - 'A' + 'a');
  return ErrnoName(err) + " (" + description + ")";
}

}  // namespace tsrun_common
