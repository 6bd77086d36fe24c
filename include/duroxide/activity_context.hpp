// What activity code sees. An activity is the side effect of an orchestration: it may do
// anything, runs at least once (a crash before its completion is recorded runs it again), and
// returns its result or throws to fail (the orchestration sees the exception's message).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace duroxide {

class ActivityContext {
public:
    virtual ~ActivityContext() = default;
    virtual const std::string& instance_id() const = 0;
    virtual std::uint64_t execution_id() const = 0;
    virtual const std::string& activity_name() const = 0;
    // The id of the ActivityScheduled event this run answers.
    virtual std::uint64_t activity_id() const = 0;
    virtual const std::optional<std::string>& session_id() const = 0;
    virtual const std::optional<std::string>& tag() const = 0;
};

} // namespace duroxide
