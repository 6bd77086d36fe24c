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
// docs/plugin-guide.md, "Explicit sessions": splitting a request list, answering from facts.
std::vector<std::string> split(const std::string& input, char separator);
std::string answer(std::map<std::string, std::string>& facts, const std::string& request);
void work_on(const std::string& chunk);
