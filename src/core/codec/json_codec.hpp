// JSON codec for duroxide's data model, in duroxide's own (serde) shapes, so that histories and
// queue messages are the same JSON the Rust crate reads and writes.
//
// Shapes (serde defaults as duroxide uses them):
//  * Event: one flat object. The envelope (event_id, source_event_id, instance_id,
//    execution_id, timestamp_ms, duroxide_version) is followed by "type" and the kind's
//    fields. source_event_id is always written (null when absent). Optional kind fields that
//    duroxide added after the first release (ActivityScheduled.session_id / tag,
//    OrchestrationStarted.carry_forward_events / initial_custom_status) are omitted when
//    absent; other optional fields (parent_instance, parent_id, CustomStatusUpdated.status)
//    are written as null. On input, a missing optional field and null are the same.
//  * ErrorDetails, WorkItem and Action: externally tagged ({"Variant":{...fields}});
//    unit enum variants are strings ("ActivityFailed", "Nondeterminism"), struct variants are
//    objects ({"Cancelled":{"reason":"x"}}).
//  * carry_forward_events: an array of [queue, data] pairs.
//
// Decoding never crashes on hostile input: the size and nesting depth are checked before
// parsing, RapidJSON parses iteratively (no recursion, safe on small fiber stacks), and every
// missing or mistyped field is a CodecError naming it.
#pragma once

#include "core/model/action.hpp"
#include "core/model/error_details.hpp"
#include "core/model/event.hpp"
#include "core/model/work_item.hpp"

#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace duroxide::core::codec {

class CodecError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct DecodeLimits {
    std::size_t max_bytes = 64u * 1024 * 1024;
    int max_depth = 32; // duroxide's shapes nest at most 6 deep
};

std::string encode(const Event& event);
std::string encode(const ErrorDetails& details);
std::string encode(const WorkItem& item);
std::string encode(const Action& action);
std::string encode_history(std::span<const Event> events);
std::string encode_work_items(std::span<const WorkItem> items);

Event decode_event(std::string_view json, const DecodeLimits& limits = {});
ErrorDetails decode_error_details(std::string_view json, const DecodeLimits& limits = {});
WorkItem decode_work_item(std::string_view json, const DecodeLimits& limits = {});
Action decode_action(std::string_view json, const DecodeLimits& limits = {});
std::vector<Event> decode_history(std::string_view json, const DecodeLimits& limits = {});
std::vector<WorkItem> decode_work_items(std::string_view json, const DecodeLimits& limits = {});

} // namespace duroxide::core::codec
