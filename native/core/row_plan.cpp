#include "row_plan.h"

#include <algorithm>

#include "thread_pool.h"

namespace mixloss {

namespace {
constexpr int64_t kMinTaskElements = 1 << 14;  // below this a task is not worth a thread

void cut(Plan& p, int64_t parts) {
  p.slice = (p.classes + parts - 1) / parts;
  p.parts = (p.classes + p.slice - 1) / p.slice;
}
}  // namespace

Plan make_plan(int64_t rows, int64_t classes, int64_t max_slice) {
  Plan p{rows, classes, 1, classes, 1};
  const int64_t want = int64_t{ThreadPool::instance().size()} * 4;  // a few tasks per thread evens the load
  if (rows < want && classes >= 2 * kMinTaskElements) cut(p, std::min((want + rows - 1) / rows, classes / kMinTaskElements));
  if (max_slice > 0 && p.slice > max_slice) cut(p, (classes + max_slice - 1) / max_slice);
  // Whole rows: group short ones so that a task holds at least kMinTaskElements.
  if (p.parts == 1) p.grain = std::max<int64_t>(1, kMinTaskElements / std::max<int64_t>(classes, 1));
  return p;
}

void for_each_slice(const Plan& plan, const std::function<void(const Slice&)>& fn) {
  ThreadPool::instance().parallel_for(plan.tasks(), plan.grain, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) fn(plan.at(t));
  });
}

}  // namespace mixloss
