// The worker queue's fetch and ack (Store::fetch_work_item, fetch_work_items, ack_work_item,
// delete_work_items, release_work_items): leasing activities for a worker, one or several per
// statement, claiming their sessions, and deleting them with their completions.
#include "store/store.hpp"

#include "core/codec/json_codec.hpp"
#include "store/lease_sql.hpp"
#include "store/session_sql.hpp"
#include "store/sql_values.hpp"

#include <algorithm>
#include <set>
#include <tuple>
#include <utility>

namespace duroxide::store {

using pg::SqlText;
namespace codec = core::codec;

namespace {

// The worker queue rows a tag filter admits ($5 holds its tags). One statement text per mode,
// so that each is prepared with its own predicate (worker_queue_tag serves the tagged ones).
const char* tag_predicate(core::TagFilter::Mode mode) {
    switch (mode) {
    case core::TagFilter::Mode::DefaultOnly:
        return "w.tag IS NULL";
    case core::TagFilter::Mode::Tags:
        return "w.tag = ANY($5::text[])";
    case core::TagFilter::Mode::DefaultAnd:
        return "(w.tag IS NULL OR w.tag = ANY($5::text[]))";
    case core::TagFilter::Mode::Any:
        return "true";
    case core::TagFilter::Mode::None:
        break;
    }
    return "false";
}

// The fetch's order: oldest visible first. For Tags, the sort key is an expression so that
// the planner reads the few rows of those tags from worker_queue_tag and sorts them, instead
// of walking worker_queue_visible in order through every untagged row ahead of them.
const char* fetch_order(core::TagFilter::Mode mode) {
    return mode == core::TagFilter::Mode::Tags ? "w.visible_at + interval '0 s', w.id"
                                               : "w.visible_at, w.id";
}

// The fetch of up to `limit` activities (a literal, so that each batch size is planned for
// its own LIMIT). RETURNING does not keep the CTE's order: the rows carry their visible_at (in
// microseconds) to be sorted by, and their instance's owner (never changes once set).
std::string fetch_statement(core::TagFilter::Mode mode, int limit) {
    return std::string("WITH picked AS ("
                       "  SELECT w.id, s.session_id IS NOT NULL AND s.owner_id = $3 "
                       "      AND s.locked_by = $2::bigint "
                       "      AND s.locked_until > pg_catalog.clock_timestamp() AS continued "
                       "  FROM duroxide.worker_queue w "
                       "  LEFT JOIN duroxide.session_locks s ON s.instance_id = w.instance_id "
                       "    AND s.session_id = w.session_id "
                       "  WHERE w.visible_at <= (SELECT pg_catalog.clock_timestamp()) AND ") +
           tag_predicate(mode) +
           " AND (w.lock_token IS NULL OR " LEASE_IS_FREE(
               "w") ") "
                    "    AND (w.session_id IS NULL "
                    "      OR (s.owner_id = $3 AND s.locked_until > pg_catalog.clock_timestamp()) "
                    "      OR ((s.session_id IS NULL OR " SESSION_IS_FREE(
                        "s") ") "
                             "        AND (SELECT pg_catalog.count(*) FROM duroxide.session_locks "
                             "o WHERE o.owner_id = $3 "
                             "             AND o.locked_until > pg_catalog.clock_timestamp()) < "
                             "$4::int)) "
                             "  ORDER BY " +
           fetch_order(mode) + " LIMIT " + std::to_string(limit) +
           " FOR UPDATE OF w SKIP LOCKED) "
           "UPDATE duroxide.worker_queue q SET lock_token = pg_catalog.gen_random_uuid()::text, "
           "  locked_until = pg_catalog.clock_timestamp() + $1::int * interval '1 millisecond', "
           "  locked_by = $2::bigint, attempt_count = q.attempt_count + 1 "
           "FROM picked WHERE q.id = picked.id "
           "RETURNING q.id, q.work_item, q.lock_token, q.attempt_count, picked.continued, "
           "  (extract(epoch FROM q.visible_at) * 1000000)::bigint, "
           "  (SELECT i.owner_role::text FROM duroxide.instances i "
           "    WHERE i.instance_id = q.instance_id), "
           "  (SELECT i.owner_role::regrole::text FROM duroxide.instances i "
           "    WHERE i.instance_id = q.instance_id)";
}

// Claims (or re-claims) a session for `activity`; a concurrent claim by another worker wins if
// it committed first. `within_limit`: the claim also checks that this worker owns fewer than
// max_sessions live sessions (the fetch checked that once, for the first claim of its batch).
bool claim_session(Statements& spi, const FetchedActivity& activity, const SessionOwner& sessions,
                   bool within_limit) {
    std::vector<SqlText> params{*activity.item.session_id, sessions.owner_id,
                                std::to_string(sessions.lease_owner),
                                std::to_string(sessions.lock_timeout_ms), activity.item.instance};
    const std::string values =
        "$5, $1, $2, $3::bigint, pg_catalog.clock_timestamp() + $4::int * interval '1 "
        "millisecond', pg_catalog.clock_timestamp()";
    std::string rows = "VALUES (" + values + ") ";
    if (within_limit) {
        params.push_back(std::to_string(sessions.max_sessions));
        rows =
            "SELECT " + values +
            " WHERE (SELECT pg_catalog.count(*) FROM duroxide.session_locks o "
            "WHERE o.owner_id = $2 AND o.locked_until > pg_catalog.clock_timestamp()) < $6::int ";
    }
    return !spi.execute("INSERT INTO duroxide.session_locks AS s (instance_id, session_id, "
                        "  owner_id, locked_by, locked_until, last_activity_at) " +
                            rows +
                            "ON CONFLICT (instance_id, session_id) DO UPDATE SET "
                            "  owner_id = excluded.owner_id, locked_by = excluded.locked_by, "
                            "  locked_until = excluded.locked_until, "
                            "  last_activity_at = excluded.last_activity_at, "
                            "  claimed_at = pg_catalog.clock_timestamp() "
                            "WHERE s.owner_id = excluded.owner_id OR " SESSION_IS_FREE(
                                "s") " RETURNING 1",
                        params)
                .rows.empty();
}

std::string bigint_array(std::span<const FetchedActivity> activities) {
    std::string literal = "{";
    for (const FetchedActivity& activity : activities) {
        literal += (literal.size() > 1 ? "," : "") + std::to_string(activity.id);
    }
    return literal + "}";
}

std::string token_array(std::span<const FetchedActivity> activities) {
    std::vector<std::string> tokens;
    tokens.reserve(activities.size());
    for (const FetchedActivity& activity : activities) {
        tokens.push_back(activity.lock_token);
    }
    return text_array(tokens);
}

const Oid kIdsAndTokens[] = {INT8ARRAYOID, TEXTARRAYOID};

std::string lease_lost_message(const FetchedActivity& activity) {
    return "activity " + activity.item.name + " #" + std::to_string(activity.item.id) + " of \"" +
           activity.item.instance +
           "\" was cancelled or its lease expired: its completion is discarded";
}

} // namespace

WorkFetch Store::fetch_work_item(int lock_timeout_ms, const SessionOwner& sessions,
                                 const core::TagFilter& tags) {
    WorkBatchFetch batch = fetch_work_items(lock_timeout_ms, sessions, tags, 1);
    WorkFetch fetch{.activity = std::nullopt, .lost_session_race = batch.lost_session_race};
    if (!batch.activities.empty()) {
        fetch.activity = std::move(batch.activities.front());
    }
    return fetch;
}

WorkBatchFetch Store::fetch_work_items(int lock_timeout_ms, const SessionOwner& sessions,
                                       const core::TagFilter& tags, int max_items) {
    WorkBatchFetch fetch;
    if (tags.mode == core::TagFilter::Mode::None || max_items < 1) {
        return fetch; // this worker runs no activity
    }
    auto rows = spi_.execute(
        fetch_statement(tags.mode, max_items),
        std::vector<SqlText>{std::to_string(lock_timeout_ms), std::to_string(sessions.lease_owner),
                             sessions.owner_id, std::to_string(sessions.max_sessions),
                             text_array(tags.tags)});
    std::vector<std::pair<std::tuple<int64_t, int64_t>, FetchedActivity>> ordered;
    ordered.reserve(rows.rows.size());
    for (const auto& row : rows.rows) {
        core::WorkItem item = codec::decode_work_item(*row[1]);
        FetchedActivity activity{
            .id = std::stoll(*row[0]),
            .lock_token = *row[2],
            .attempt_count = static_cast<uint32_t>(std::stoul(*row[3])),
            .item = std::get<core::work::ActivityExecute>(std::move(item.kind)),
            .session_continued = row[4] && *row[4] == "t",
            .owner = ActivityOwner{.role = oid_of(row[6]), .role_name = row[7]}};
        ordered.emplace_back(std::tuple{std::stoll(*row[5]), activity.id}, std::move(activity));
    }
    std::sort(ordered.begin(), ordered.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    // The sessions claimed by this fetch: their later items continue them.
    std::set<std::pair<std::string, std::string>> claimed;
    for (auto& [order, activity] : ordered) {
        const auto& session = activity.item.session_id;
        if (!session || activity.session_continued) {
            fetch.activities.push_back(std::move(activity));
            continue;
        }
        const std::pair<std::string, std::string> key{activity.item.instance, *session};
        if (claimed.contains(key)) {
            activity.session_continued = true;
            fetch.activities.push_back(std::move(activity));
            continue;
        }
        if (claim_session(spi_, activity, sessions, !claimed.empty())) {
            claimed.insert(key);
            fetch.activities.push_back(std::move(activity));
            continue;
        }
        abandon_work_item(activity, 0, true);
        fetch.lost_session_race = true;
    }
    return fetch;
}

void Store::ack_work_item(const FetchedActivity& activity, const core::WorkItem& completion,
                          const SessionOwner& sessions, bool deleted) {
    if (!deleted &&
        spi_.execute("DELETE FROM duroxide.worker_queue WHERE id = $1::bigint AND lock_token = $2 "
                     "  AND locked_until > pg_catalog.clock_timestamp() RETURNING 1",
                     std::vector<SqlText>{std::to_string(activity.id), activity.lock_token})
            .rows.empty()) {
        throw LeaseLost(lease_lost_message(activity));
    }
    if (activity.item.session_id) {
        // Activity keeps the session pinned; only its owner's own completion counts.
        spi_.execute(
            "UPDATE duroxide.session_locks SET last_activity_at = pg_catalog.clock_timestamp(), "
            "  locked_until = greatest(locked_until, "
            "    pg_catalog.clock_timestamp() + $4::int * interval '1 millisecond') "
            "WHERE instance_id = $5 AND session_id = $1 AND owner_id = $2 "
            "  AND locked_by = $3::bigint",
            std::vector<SqlText>{*activity.item.session_id, sessions.owner_id,
                                 std::to_string(sessions.lease_owner),
                                 std::to_string(sessions.lock_timeout_ms), activity.item.instance});
    }
    enqueue_orchestrator(completion);
}

void Store::delete_work_items(std::span<const FetchedActivity> activities) {
    if (activities.empty()) {
        return;
    }
    auto deleted = spi_.execute_typed(
        "DELETE FROM duroxide.worker_queue w "
        "USING unnest($1, $2) AS a(id, lock_token) "
        "WHERE w.id = a.id AND w.lock_token = a.lock_token "
        "  AND w.locked_until > pg_catalog.clock_timestamp() RETURNING w.id",
        std::vector<SqlText>{bigint_array(activities), token_array(activities)}, kIdsAndTokens);
    if (deleted.rows.size() == activities.size()) {
        return;
    }
    std::set<int64_t> gone;
    for (const FetchedActivity& activity : activities) {
        gone.insert(activity.id);
    }
    for (const auto& row : deleted.rows) {
        gone.erase(std::stoll(*row[0]));
    }
    const auto lost = std::find_if(activities.begin(), activities.end(),
                                   [&](const FetchedActivity& a) { return gone.contains(a.id); });
    throw LeaseLost(lease_lost_message(lost != activities.end() ? *lost : activities.front()));
}

uint64_t Store::release_work_items(std::span<const FetchedActivity> activities) {
    if (activities.empty()) {
        return 0;
    }
    return spi_
        .execute_typed("UPDATE duroxide.worker_queue w SET lock_token = NULL, "
                       "  locked_until = NULL, locked_by = NULL, "
                       "  attempt_count = greatest(w.attempt_count - 1, 0) "
                       "FROM unnest($1, $2) AS a(id, lock_token) "
                       "WHERE w.id = a.id AND w.lock_token = a.lock_token",
                       std::vector<SqlText>{bigint_array(activities), token_array(activities)},
                       kIdsAndTokens)
        .processed;
}

} // namespace duroxide::store
