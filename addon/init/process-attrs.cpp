// Process attributes set with one syscall each: personality, I/O priority, scheduler,
// CPU affinity.
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <sys/personality.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <vector>

#include "init.hpp"

namespace init {

void OpPersonality(const Args& a) {
  std::string object = "personality " + a[0];
  uint64_t persona = ParseU64(a[0], object);
  if (persona > 0xffffffffULL) FailMessage(object + ": out of range");
  // personality(2) returns the previous persona; -1 with errno is its only failure.
  errno = 0;
  if (personality(static_cast<unsigned long>(persona)) == -1 && errno != 0) Fail(object, "personality", errno);
}

void OpIoPriority(const Args& a) {
  std::string object = "ioPriority " + a[0];
  uint64_t prio = ParseU64(a[0], object);
  constexpr int kIoprioWhoProcess = 1;
  if (syscall(SYS_ioprio_set, kIoprioWhoProcess, 0, static_cast<int>(prio)) < 0) Fail(object, "ioprio_set", errno);
}

void OpScheduler(const Args& a) {
  std::string object = "scheduler policy " + a[0];
  // struct sched_attr (linux/sched/types.h), version 0 (48 bytes): libc has no wrapper.
  struct {
    uint32_t size;
    uint32_t policy;
    uint64_t flags;
    int32_t nice;
    uint32_t priority;
    uint64_t runtime;
    uint64_t deadline;
    uint64_t period;
  } attr = {};
  attr.size = sizeof attr;
  attr.policy = static_cast<uint32_t>(ParseU64(a[0], object));
  attr.flags = ParseU64(a[1], object);
  attr.nice = static_cast<int32_t>(ParseI64(a[2], object));
  attr.priority = static_cast<uint32_t>(ParseU64(a[3], object));
  attr.runtime = ParseU64(a[4], object);
  attr.deadline = ParseU64(a[5], object);
  attr.period = ParseU64(a[6], object);
  if (syscall(SYS_sched_setattr, 0, &attr, 0) < 0) Fail(object, "sched_setattr", errno);
}

void OpCpuAffinity(const Args& a) {
  std::string object = "cpu affinity " + a[0];
  // "0,1,7": the planner has expanded ranges; sized for the highest CPU named.
  std::vector<uint64_t> cpus;
  size_t start = 0;
  while (start <= a[0].size()) {
    size_t end = a[0].find(',', start);
    if (end == std::string::npos) end = a[0].size();
    cpus.push_back(ParseU64(a[0].substr(start, end - start), object));
    start = end + 1;
  }
  uint64_t highest = 0;
  for (uint64_t c : cpus) highest = c > highest ? c : highest;
  if (highest > 65535) FailMessage(object + ": CPU number out of range");
  cpu_set_t* set = CPU_ALLOC(highest + 1);
  if (set == nullptr) Fail(object, "CPU_ALLOC", ENOMEM);
  const size_t size = CPU_ALLOC_SIZE(highest + 1);
  CPU_ZERO_S(size, set);
  for (uint64_t c : cpus) CPU_SET_S(c, size, set);
  int rc = sched_setaffinity(0, size, set);
  int err = errno;
  CPU_FREE(set);
  if (rc < 0) Fail(object, "sched_setaffinity", err);
}

}  // namespace init
