// The two loops a background worker runs (process/worker.cpp): orchestration turns
// (orchestration_loop.hpp) and activities (activity/activity_loop.hpp).
#pragma once

#include "runtime/activity/activity_loop.hpp"
#include "runtime/orchestration/orchestration_loop.hpp"
