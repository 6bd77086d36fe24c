// What the C++ fragments of the docs (```cpp fragment / ```cpp statements) may assume: the
// public header, the standard library they use, and the helpers a sample leaves to the reader.
#pragma once

#include <duroxide/duroxide.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

// docs/plugin-guide.md, "Long activities": the work an activity splits into steps.
std::vector<std::string> split(const std::string& input);
void work_on(const std::string& chunk);
