// The CPUs this process may use, as the operating system limits them: its CPU affinity (taskset,
// a container's cpuset, a Kubernetes static CPU policy) and its cgroup's CPU quota (docker
// --cpus, a Kubernetes CPU limit). The thread pool's default size comes from here: a pool with
// more threads than the CPUs it may run on has its workers wait for each other's time slices.
#pragma once

#include <string>

namespace mixloss {

struct CpuLimits {
  // CPUs in the affinity mask (the hardware's count where the mask cannot be read).
  int affinity = 1;
  // CPUs' worth of time per period the cgroup allows (quota / period, the tightest over the
  // process's cgroup and its ancestors, v1 or v2); 0 when there is no quota.
  double quota = 0;
};

// Read from the system (Linux: sched_getaffinity, /proc/self/mountinfo, /proc/self/cgroup and
// the cgroup files they name; elsewhere the hardware's count, no quota).
CpuLimits cpu_limits();

// The quota as read under `root` (a directory laid out as /: root + "/proc/self/mountinfo" and
// so on), for tests of the cgroup layouts a machine does not have; 0 when there is none.
double cgroup_cpu_quota(const std::string& root);

// The threads worth running: the affinity's CPUs, at most the quota rounded up, at least 1.
int usable_cpus(const CpuLimits& limits);

}  // namespace mixloss
