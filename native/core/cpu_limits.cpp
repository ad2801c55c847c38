#include "cpu_limits.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#ifdef __linux__
#include <sched.h>
#endif

namespace mixloss {

namespace {

int hardware_cpus() {
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(std::min<unsigned>(hw, 1u << 20));
}

#ifdef __linux__
int affinity_cpus() {
  // A mask as wide as the kernel's (EINVAL: too narrow for it).
  for (int n = 1024; n <= (1 << 20); n *= 2) {
    cpu_set_t* set = CPU_ALLOC(n);
    if (set == nullptr) break;
    const size_t size = CPU_ALLOC_SIZE(n);
    CPU_ZERO_S(size, set);
    const int rc = sched_getaffinity(0, size, set);
    const int err = errno;
    const int count = rc == 0 ? CPU_COUNT_S(size, set) : 0;
    CPU_FREE(set);
    if (rc == 0) return count > 0 ? count : hardware_cpus();
    if (err != EINVAL) break;
  }
  return hardware_cpus();
}
#else
int affinity_cpus() { return hardware_cpus(); }
#endif

bool read_text(const std::string& path, std::string& text) {
  std::ifstream in(path);
  if (!in) return false;
  std::ostringstream s;
  s << in.rdbuf();
  text = s.str();
  return true;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  std::string part;
  std::istringstream in(s);
  while (std::getline(in, part, sep)) parts.push_back(part);
  if (!s.empty() && s.back() == sep) parts.emplace_back();
  return parts;
}

bool has_item(const std::string& list, const std::string& item) {
  for (const std::string& x : split(list, ','))
    if (x == item) return true;
  return false;
}

bool is_octal(char c) { return c >= '0' && c <= '7'; }

// mountinfo writes a space, tab, newline and backslash in a path as \040, \011, \012, \134.
std::string unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && is_octal(s[i + 1]) && is_octal(s[i + 2]) && is_octal(s[i + 3])) {
      out.push_back(static_cast<char>(std::strtol(s.substr(i + 1, 3).c_str(), nullptr, 8)));
      i += 3;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

struct CgroupMount {
  bool v2;
  std::string root;         // the cgroup the mount shows at its mount point
  std::string mount_point;  // where it is mounted
};

// The cgroup v2 mounts and the v1 mounts of the cpu controller (mountinfo: "id parent
// major:minor root mount-point options [optional...] - fstype source super-options").
std::vector<CgroupMount> cgroup_mounts(const std::string& mountinfo) {
  std::vector<CgroupMount> mounts;
  std::istringstream lines(mountinfo);
  std::string line;
  while (std::getline(lines, line)) {
    std::vector<std::string> f;
    std::istringstream words(line);
    for (std::string w; words >> w;) f.push_back(w);
    const auto dash = std::find(f.begin(), f.end(), "-");
    if (dash == f.end() || f.size() < 5 || dash - f.begin() < 6 || f.end() - dash < 4) continue;
    const std::string& fstype = dash[1];
    const bool v2 = fstype == "cgroup2";
    if (!v2 && !(fstype == "cgroup" && has_item(dash[3], "cpu"))) continue;
    mounts.push_back({v2, unescape(f[3]), unescape(f[4])});
  }
  return mounts;
}

// The process's cgroup path in the v2 hierarchy or in the v1 cpu controller's
// (/proc/self/cgroup: "hierarchy-id:controllers:path").
bool cgroup_path(const std::string& cgroups, bool v2, std::string& path) {
  std::istringstream lines(cgroups);
  std::string line;
  while (std::getline(lines, line)) {
    const size_t a = line.find(':'), b = a == std::string::npos ? a : line.find(':', a + 1);
    if (b == std::string::npos) continue;
    const std::string controllers = line.substr(a + 1, b - a - 1);
    if (v2 ? (line.compare(0, a, "0") == 0 && controllers.empty()) : has_item(controllers, "cpu")) {
      path = line.substr(b + 1);
      return true;
    }
  }
  return false;
}

// CPUs' worth of quota in one cgroup directory; 0 when none.
double quota_in(const std::string& dir, bool v2) {
  std::string text;
  if (v2) {
    // cpu.max: "max 100000" or "50000 100000".
    if (!read_text(dir + "/cpu.max", text)) return 0;
    std::istringstream in(text);
    std::string quota;
    double period = 0;
    if (!(in >> quota >> period) || quota == "max" || period <= 0) return 0;
    const double q = std::strtod(quota.c_str(), nullptr);
    return q > 0 ? q / period : 0;
  }
  std::string period_text;
  if (!read_text(dir + "/cpu.cfs_quota_us", text) || !read_text(dir + "/cpu.cfs_period_us", period_text)) return 0;
  const double q = std::strtod(text.c_str(), nullptr), period = std::strtod(period_text.c_str(), nullptr);
  return q > 0 && period > 0 ? q / period : 0;  // -1: no quota
}

// The tightest quota from the process's cgroup up to the mount's top.
double quota_under(const std::string& root, const CgroupMount& m, const std::string& path) {
  std::string rel;
  // A cgroup namespace shows a cgroup outside its root as "/../…": not under this mount.
  if (path.find("/..") != std::string::npos) return 0;
  if (m.root == "/") {
    rel = path == "/" ? "" : path;
  } else if (path == m.root || path.compare(0, m.root.size() + 1, m.root + "/") == 0) {
    rel = path.substr(m.root.size());
  } else {
    return 0;  // the process's cgroup is outside what this mount shows
  }
  double tightest = 0;
  for (std::string dir = rel;;) {
    const double q = quota_in(root + m.mount_point + dir, m.v2);
    if (q > 0 && (tightest == 0 || q < tightest)) tightest = q;
    if (dir.empty()) break;
    const size_t slash = dir.rfind('/');
    dir.erase(slash == std::string::npos ? 0 : slash);
  }
  return tightest;
}

}  // namespace

double cgroup_cpu_quota(const std::string& root) {
  std::string mountinfo, cgroups;
  if (!read_text(root + "/proc/self/mountinfo", mountinfo) || !read_text(root + "/proc/self/cgroup", cgroups)) return 0;
  double tightest = 0;
  for (const CgroupMount& m : cgroup_mounts(mountinfo)) {
    std::string path;
    if (!cgroup_path(cgroups, m.v2, path)) continue;
    const double q = quota_under(root, m, path);
    if (q > 0 && (tightest == 0 || q < tightest)) tightest = q;
  }
  return tightest;
}

CpuLimits cpu_limits() {
  CpuLimits limits;
  limits.affinity = affinity_cpus();
#ifdef __linux__
  limits.quota = cgroup_cpu_quota("");
#endif
  return limits;
}

int usable_cpus(const CpuLimits& limits) {
  int n = std::max(1, limits.affinity);
  if (limits.quota > 0) n = std::min<int>(n, static_cast<int>(std::max(1.0, std::ceil(limits.quota - 1e-9))));
  return n;
}

}  // namespace mixloss
