// Process attributes set with one syscall each: personality, I/O priority, scheduler,
// CPU affinity, NUMA memory policy.
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>
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

namespace {

// "0,1,7" (the planner has expanded ranges and strides) -> the numbers; "" -> none.
std::vector<uint64_t> ParseNumberList(const std::string& text, const std::string& object) {
  std::vector<uint64_t> numbers;
  size_t start = 0;
  while (!text.empty() && start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    numbers.push_back(ParseU64(text.substr(start, end - start), object));
    start = end + 1;
  }
  return numbers;
}

}  // namespace

// The highest CPU number a list may name, and so the size of the "all" mask.
constexpr uint64_t kHighestCpu = 65535;

void OpCpuAffinity(const Args& a) {
  std::string object = "cpu affinity " + a[0];
  // "all": every CPU, which the kernel narrows to those the cpuset allows.
  const bool all = a[0] == "all";
  std::vector<uint64_t> cpus = all ? std::vector<uint64_t>{} : ParseNumberList(a[0], object);
  // Sized for the highest CPU named.
  uint64_t highest = all ? kHighestCpu : 0;
  for (uint64_t c : cpus) highest = c > highest ? c : highest;
  if (highest > kHighestCpu) FailMessage(object + ": CPU number out of range");
  cpu_set_t* set = CPU_ALLOC(highest + 1);
  if (set == nullptr) Fail(object, "CPU_ALLOC", ENOMEM);
  const size_t size = CPU_ALLOC_SIZE(highest + 1);
  CPU_ZERO_S(size, set);
  if (all) memset(set, 0xff, size);
  for (uint64_t c : cpus) CPU_SET_S(c, size, set);
  int rc = sched_setaffinity(0, size, set);
  int err = errno;
  CPU_FREE(set);
  // The reset is a courtesy, as runc's is: a policy that refuses it (an LSM, a
  // seccomp filter on the caller) must not fail every create and exec.
  if (rc < 0 && all) return;
  if (rc < 0) Fail(object, "sched_setaffinity", err);
}

void OpMemoryPolicy(const Args& a) {
  // a[2]: the mode's name, for messages only.
  std::string object = "linux.memoryPolicy " + a[2] + (a[1].empty() ? "" : " nodes " + a[1]);
  uint64_t mode = ParseU64(a[0], object);
  if (mode > 0xffff) FailMessage(object + ": mode out of range");
  std::vector<uint64_t> nodes = ParseNumberList(a[1], object);
  uint64_t highest = 0;
  for (uint64_t n : nodes) highest = n > highest ? n : highest;
  if (highest > 65535) FailMessage(object + ": node number out of range");
  constexpr uint64_t kBits = 8 * sizeof(unsigned long);
  std::vector<unsigned long> mask(nodes.empty() ? 0 : highest / kBits + 1, 0);
  for (uint64_t n : nodes) mask[n / kBits] |= 1UL << (n % kBits);
  // maxnode counts one more than the bits given: the kernel drops the last one
  // (what numactl passes too). No nodes: a null mask.
  unsigned long maxnode = mask.empty() ? 0 : mask.size() * kBits + 1;
  if (syscall(SYS_set_mempolicy, static_cast<int>(mode), mask.empty() ? nullptr : mask.data(), maxnode) < 0)
    Fail(object, "set_mempolicy", errno);
}

}  // namespace init
