#include "runtime/activity/system_activities.hpp"

#include "core/workflow/interpreter.hpp"
#include "duroxide/orchestration_context.hpp"
#include "duroxide/registry.hpp"
#include "pg/guard.hpp"
#include "runtime/process/gucs.hpp"
#include "runtime/services/instance_isolation.hpp"
#include "runtime/activity/workflow_http_step.hpp"
#include "runtime/activity/workflow_schedule_step.hpp"
#include "runtime/activity/workflow_sql_step.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <chrono>
#include <stdexcept>

extern "C" {
#include "miscadmin.h"
}

namespace duroxide::runtime {

namespace {

// A failure the orchestration sees as the activity's error.
struct SystemCallError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

std::string new_guid() {
    unsigned char bytes[16];
    if (!pg::call([&bytes] { return pg_strong_random(bytes, sizeof(bytes)); })) {
        throw std::runtime_error("no random source for new_guid");
    }
    bytes[6] = static_cast<unsigned char>((bytes[6] & 0x0f) | 0x40); // version 4
    bytes[8] = static_cast<unsigned char>((bytes[8] & 0x3f) | 0x80); // RFC 4122 variant
    char text[37];
    snprintf(text, sizeof(text),
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", bytes[0],
             bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8],
             bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]);
    return text;
}

std::string utc_now_ms() {
    using namespace std::chrono;
    return std::to_string(
        duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
}

// Whether an orchestration owned by `caller` may read the instance owned by `target` (none:
// the instance does not exist or records no owner): the per-role isolation of the SQL API,
// applied to the role that started the orchestration. An orchestration without a recorded
// owner reads nothing while isolation is on.
bool owner_may_read(std::optional<Oid> caller, std::optional<Oid> target) {
    if (!caller) {
        return !settings.isolate_instances;
    }
    return role_may_access_instance(*caller, target);
}

std::string get_kv_value(store::Store& store, const core::work::ActivityExecute& item) {
    rapidjson::Document input;
    input.Parse(item.input.data(), item.input.size());
    if (input.HasParseError() || !input.IsObject() || !input.HasMember("instance_id") ||
        !input["instance_id"].IsString() || !input.HasMember("key") || !input["key"].IsString()) {
        throw SystemCallError(
            "get_kv_value: the input must be a JSON object {\"instance_id\": text, \"key\": text}");
    }
    const std::string instance(input["instance_id"].GetString(),
                               input["instance_id"].GetStringLength());
    const std::string key(input["key"].GetString(), input["key"].GetStringLength());
    // An instance the orchestration's owner may not reach reads as absent, as in the SQL API.
    const std::optional<std::string> value =
        owner_may_read(store.instance_owner(item.instance), store.instance_owner(instance))
            ? store.kv_value(instance, key)
            : std::nullopt;
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    if (value) {
        writer.String(value->data(), static_cast<rapidjson::SizeType>(value->size()));
    } else {
        writer.Null();
    }
    return std::string(buffer.GetString(), buffer.GetSize());
}

} // namespace

bool is_system_activity(std::string_view name) {
    return name.starts_with(kSystemActivityPrefix);
}

core::WorkItem run_system_activity(store::Store& store, const core::work::ActivityExecute& item) {
    try {
        std::string output;
        if (item.name == OrchestrationContext::kSystemNewGuid) {
            output = new_guid();
        } else if (item.name == OrchestrationContext::kSystemUtcNowMs) {
            output = utc_now_ms();
        } else if (item.name == OrchestrationContext::kSystemGetKvValue) {
            output = get_kv_value(store, item);
        } else if (item.name == core::workflow::kWorkflowSqlActivity) {
            output = run_workflow_sql_step(store, item);
        } else if (item.name == core::workflow::kWorkflowHttpActivity) {
            output = run_workflow_http_step(item);
        } else if (item.name == core::workflow::kWorkflowScheduleActivity) {
            output = run_workflow_schedule_step(item);
        } else if (item.name == core::workflow::kWorkflowDefinitionActivity) {
            output = load_workflow_definition(store, item);
        } else {
            throw SystemCallError("unknown system activity \"" + item.name + "\"");
        }
        return {core::work::ActivityCompleted{item.instance, item.execution_id, item.id, output}};
    } catch (const WorkflowStepError& e) {
        return {core::work::ActivityFailed{item.instance, item.execution_id, item.id,
                                           core::ErrorDetails::activity_failed(e.what())}};
    } catch (const SystemCallError& e) {
        return {core::work::ActivityFailed{item.instance, item.execution_id, item.id,
                                           core::ErrorDetails::activity_failed(e.what())}};
    }
}

} // namespace duroxide::runtime
