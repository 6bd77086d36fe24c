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
// The stored form of an event (duroxide.history.event_data since 0.2.0): the same object
// without what the row's columns hold (event_id, instance_id, execution_id and type), without
// "source_event_id" when it is null, without "duroxide_version" when it is kStoredImpliedVersion,
// and without the kind's null fields (a missing optional reads as null). Field names and the
// kind fields' values are unchanged, so SQL reads such as event_data::jsonb->>'name' or
// ->>'source_event_id' read either form. Rows of 0.1.0 hold the full form: the stored-form
// readers accept both (the full form names its "type"; the stored form never does).
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
#include <cstdint>
#include <optional>
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

// What an event's stored form leaves out of "duroxide_version". Rows rely on it: never change.
inline constexpr const char* kStoredImpliedVersion = "0.1.29";

// The columns a history row holds beside its event_data.
struct StoredEventKeys {
    std::string_view instance_id;
    uint64_t execution_id = 0;
    uint64_t event_id = 0;
    std::string_view type; // the event_type column (the kind's "type" tag)
};

std::string encode(const Event& event);
std::string encode_stored(const Event& event);
std::string encode(const ErrorDetails& details);
std::string encode(const WorkItem& item);
std::string encode(const Action& action);
std::string encode_history(std::span<const Event> events);
std::string encode_work_items(std::span<const WorkItem> items);

Event decode_event(std::string_view json, const DecodeLimits& limits = {});
// An event_data value in either form, with its row's keys.
Event decode_stored_event(std::string_view json, const StoredEventKeys& keys,
                          const DecodeLimits& limits = {});
// The full form (encode) of a stored-form event_data; nullopt when `json` is not in the stored
// form (the full form, or not a JSON object: the caller keeps it as it is). A stored-form row
// that does not decode is a CodecError.
std::optional<std::string> full_form_of_stored(std::string_view json, const StoredEventKeys& keys,
                                               const DecodeLimits& limits = {});
ErrorDetails decode_error_details(std::string_view json, const DecodeLimits& limits = {});
WorkItem decode_work_item(std::string_view json, const DecodeLimits& limits = {});
Action decode_action(std::string_view json, const DecodeLimits& limits = {});
std::vector<Event> decode_history(std::string_view json, const DecodeLimits& limits = {});
std::vector<WorkItem> decode_work_items(std::string_view json, const DecodeLimits& limits = {});

} // namespace duroxide::core::codec
