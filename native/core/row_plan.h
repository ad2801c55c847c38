// How a [rows, classes] loop is cut into tasks for the thread pool: whole rows when there are
// enough rows to keep every thread busy, otherwise column slices of each row, so that a few
// huge rows still use every core. Shared by the kernels and the benchmark's memory loop.
#pragma once

#include <cstdint>
#include <functional>

namespace mixloss {

struct Slice {
  int64_t row, begin, end;  // columns [begin, end) of row
};

struct Plan {
  int64_t rows, classes;
  int64_t parts;  // slices per row
  int64_t slice;  // columns per slice (the last may be shorter)
  int64_t grain;  // tasks handed to a thread at a time

  int64_t tasks() const { return rows * parts; }
  Slice at(int64_t task) const {
    const int64_t r = task / parts, c0 = (task % parts) * slice;
    return {r, c0, c0 + slice < classes ? c0 + slice : classes};
  }
};

// max_slice > 0 caps the slice length (the fused pass keeps slices within L2).
Plan make_plan(int64_t rows, int64_t classes, int64_t max_slice = 0);

// Calls fn on every slice of the plan, spread over the thread pool.
void for_each_slice(const Plan& plan, const std::function<void(const Slice&)>& fn);

}  // namespace mixloss
