// libFuzzer target for the JSON codec (src/core/codec): every decoder must either return a
// value or throw CodecError on any input, and whatever it decodes must survive a round trip
// (encode, decode again: the same value). The first input byte picks the decoder.
#include "core/codec/json_codec.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace codec = duroxide::core::codec;

namespace {

// Small limits so the fuzzer also exercises the size and depth checks.
const codec::DecodeLimits kLimits{.max_bytes = 64 * 1024, .max_depth = 32};

using duroxide::core::Action;
using duroxide::core::ErrorDetails;
using duroxide::core::Event;
using duroxide::core::WorkItem;

template <typename T, typename Encode>
void round_trip(std::string_view json, T (*decode)(std::string_view, const codec::DecodeLimits&),
                Encode encode) {
    T first;
    try {
        first = decode(json, kLimits);
    } catch (const codec::CodecError&) {
        return; // rejected cleanly: fine
    }
    const std::string again = encode(first);
    T second;
    try {
        second = decode(again, codec::DecodeLimits{});
    } catch (const codec::CodecError&) {
        std::abort(); // the codec cannot read what it wrote
    }
    if (!(first == second)) {
        std::abort(); // the round trip changed the value
    }
}

// The stored form of history rows: any input read with a row's keys is a value or a CodecError,
// never a crash; a decoded event survives encode_stored and rebuilds its full form exactly.
void stored_round_trip(std::string_view json) {
    const codec::StoredEventKeys row{
        .instance_id = "i", .execution_id = 1, .event_id = 2, .type = "ExternalEvent"};
    try {
        (void)codec::full_form_of_stored(json, row, kLimits);
    } catch (const codec::CodecError&) {
    }
    Event first;
    try {
        first = codec::decode_stored_event(json, row, kLimits);
    } catch (const codec::CodecError&) {
        return;
    }
    const codec::StoredEventKeys keys{.instance_id = first.instance_id,
                                      .execution_id = first.execution_id,
                                      .event_id = first.event_id,
                                      .type = first.type_name()};
    const std::string stored = codec::encode_stored(first);
    try {
        if (!(codec::decode_stored_event(stored, keys) == first) ||
            codec::full_form_of_stored(stored, keys) != codec::encode(first)) {
            std::abort(); // the stored form lost or changed something
        }
    } catch (const codec::CodecError&) {
        std::abort(); // the codec cannot read what it wrote
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    const std::string_view json(reinterpret_cast<const char*>(data) + 1, size - 1);
    switch (data[0] % 6) {
    case 0:
        round_trip<Event>(json, codec::decode_event,
                          [](const Event& v) { return codec::encode(v); });
        stored_round_trip(json);
        break;
    case 1:
        round_trip<WorkItem>(json, codec::decode_work_item,
                             [](const WorkItem& v) { return codec::encode(v); });
        break;
    case 2:
        round_trip<std::vector<Event>>(json, codec::decode_history,
                                       [](const auto& v) { return codec::encode_history(v); });
        break;
    case 3:
        round_trip<std::vector<WorkItem>>(json, codec::decode_work_items, [](const auto& v) {
            return codec::encode_work_items(v);
        });
        break;
    case 4:
        round_trip<ErrorDetails>(json, codec::decode_error_details,
                                 [](const ErrorDetails& v) { return codec::encode(v); });
        break;
    default:
        round_trip<Action>(json, codec::decode_action,
                           [](const Action& v) { return codec::encode(v); });
        break;
    }
    return 0;
}
