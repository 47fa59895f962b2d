// The addon's owning file descriptor (addon/common/unique-fd.hpp).
#pragma once

#include "../common/unique-fd.hpp"

namespace tsrun {

using tsrun_common::UniqueFd;

}  // namespace tsrun
