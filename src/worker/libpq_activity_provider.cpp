#include "worker/libpq_activity_provider.hpp"

#include "core/codec/json_codec.hpp"

namespace duroxide::worker {

namespace {

using core::provider::ActivityItem;
using Params = std::vector<std::optional<std::string>>;

// The server's "no longer held" (object_not_in_prerequisite_state).
constexpr std::string_view kLeaseLostState = "55000";

bool is_true(const Rows& rows) {
    return !rows.rows.empty() && rows.rows[0][0] && *rows.rows[0][0] == "t";
}

} // namespace

ServerSettings LibpqActivityProvider::attach(const std::string& worker_id) {
    const Rows rows = connection_.exec(
        "SELECT owner_id, max_attempts, unregistered_backoff_ms, cancellation_grace_ms, "
        "max_payload_bytes FROM duroxide.worker_attach($1)",
        Params{worker_id});
    const auto& row = rows.rows.at(0);
    // Shown in pg_stat_activity, so that operators see which worker a backend serves.
    connection_.exec("SELECT pg_catalog.set_config('application_name', $1, false)",
                     Params{"duroxide-worker " + worker_id});
    connection_.exec("LISTEN duroxide_activities");
    return {.owner_id = *row[0],
            .max_attempts = static_cast<uint32_t>(std::stoul(*row[1])),
            .unregistered_backoff_ms = std::stoi(*row[2]),
            .grace_ms = std::stoi(*row[3]),
            .max_output_bytes = static_cast<std::size_t>(std::stoll(*row[4]))};
}

void LibpqActivityProvider::detach() {
    try {
        give_back_held();
        connection_.exec("SELECT duroxide.worker_detach()");
    } catch (const PgError&) {
    }
}

std::optional<ActivityItem> LibpqActivityProvider::fetch_work_item(const core::TagFilter& tags) {
    while (!held_.empty()) {
        ActivityItem next = std::move(held_.front());
        held_.pop_front();
        if (renew(next, false)) {
            return next;
        }
    }
    const Rows rows = connection_.exec("SELECT id, lock_token, attempt_count, work_item "
                                       "FROM duroxide.worker_claim($1, $2::int, $3::int, $4::int)",
                                       Params{tags.to_string(), std::to_string(settings_.batch),
                                              std::to_string(settings_.lock_timeout_ms),
                                              std::to_string(settings_.max_sessions)});
    for (const auto& row : rows.rows) {
        core::WorkItem work = core::codec::decode_work_item(*row[3]);
        held_.push_back(ActivityItem{.id = std::stoll(*row[0]),
                                     .lock_token = *row[1],
                                     .attempt_count = static_cast<uint32_t>(std::stoul(*row[2])),
                                     .item = std::get<core::work::ActivityExecute>(work.kind)});
    }
    if (held_.empty()) {
        return std::nullopt;
    }
    ActivityItem first = std::move(held_.front());
    held_.pop_front();
    return first;
}

void LibpqActivityProvider::ack_work_item(const ActivityItem& item,
                                          const core::WorkItem& completion) {
    try {
        connection_.exec(
            "SELECT duroxide.worker_complete($1::bigint, $2, $3)",
            Params{std::to_string(item.id), item.lock_token, core::codec::encode(completion)});
    } catch (const PgError& e) {
        if (e.sqlstate() == kLeaseLostState) {
            throw core::provider::LeaseLost(e.what());
        }
        throw;
    }
}

bool LibpqActivityProvider::abandon_work_item(const ActivityItem& item, int64_t delay_ms,
                                              bool ignore_attempt) {
    return is_true(
        connection_.exec("SELECT duroxide.worker_abandon($1::bigint, $2, $3::bigint, $4::boolean)",
                         Params{std::to_string(item.id), item.lock_token, std::to_string(delay_ms),
                                ignore_attempt ? "true" : "false"}));
}

void LibpqActivityProvider::complete_and_ack_work_item(
    const ActivityItem& item, const std::function<core::WorkItem()>& complete) {
    in_one_commit([&] { ack_work_item(item, complete()); });
}

void LibpqActivityProvider::in_one_commit(const std::function<void()>& acks) {
    if (in_transaction_) {
        acks(); // joins the activity's transaction
        return;
    }
    begin();
    try {
        acks();
    } catch (...) {
        roll_back();
        throw;
    }
    commit();
}

bool LibpqActivityProvider::renew(const ActivityItem& item, bool hold_session) {
    return is_true(connection_.exec(
        "SELECT duroxide.worker_renew($1::bigint, $2, $3::int, $4::boolean)",
        Params{std::to_string(item.id), item.lock_token, std::to_string(settings_.lock_timeout_ms),
               hold_session ? "true" : "false"}));
}

bool LibpqActivityProvider::holds(const ActivityItem& item) {
    return is_true(connection_.exec("SELECT duroxide.worker_holds($1::bigint, $2)",
                                    Params{std::to_string(item.id), item.lock_token}));
}

std::vector<std::pair<std::string, std::string>> LibpqActivityProvider::renew_sessions() {
    std::vector<std::pair<std::string, std::string>> owned;
    for (const auto& row :
         connection_.exec("SELECT instance_id, session_id FROM duroxide.worker_renew_sessions()")
             .rows) {
        owned.emplace_back(*row[0], *row[1]);
    }
    return owned;
}

void LibpqActivityProvider::begin() {
    connection_.exec("BEGIN");
    in_transaction_ = true;
}

void LibpqActivityProvider::commit() {
    in_transaction_ = false;
    connection_.exec("COMMIT");
}

void LibpqActivityProvider::roll_back() {
    if (in_transaction_) {
        in_transaction_ = false;
        connection_.exec("ROLLBACK");
    }
}

void LibpqActivityProvider::give_back_held() {
    while (!held_.empty()) {
        abandon_work_item(held_.front(), 0, true);
        held_.pop_front();
    }
}

} // namespace duroxide::worker
