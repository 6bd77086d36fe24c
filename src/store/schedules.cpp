#include "store/schedules.hpp"

#include "store/statements.hpp"

#include <string>
#include <vector>

namespace duroxide::store {

namespace {

std::optional<std::int64_t> optional_ms(const pg::SqlText& value) {
    if (!value) {
        return std::nullopt;
    }
    return std::stoll(*value);
}

pg::SqlText ms_text(const std::optional<std::int64_t>& ms) {
    return ms ? pg::SqlText(std::to_string(*ms)) : std::nullopt;
}

} // namespace

std::vector<DueSchedule> lock_due_schedules(pg::SpiConnection& spi, std::int64_t now_ms,
                                            int limit) {
    const pg::SpiRows rows = Statements(spi).execute(
        "SELECT s.name, s.cron, s.time_zone, s.overlap, s.catch_up, s.catch_up_max, "
        "       (pg_catalog.date_part('epoch', s.next_fire_at) * 1000)::bigint, "
        "       (pg_catalog.date_part('epoch', s.pending_fire_at) * 1000)::bigint, "
        "       s.last_instance_id IS NOT NULL AND ("
        "           EXISTS (SELECT 1 FROM duroxide.instances i "
        "                     JOIN duroxide.executions e ON e.instance_id = i.instance_id "
        "                                               AND e.execution_id = "
        "i.current_execution_id "
        "                    WHERE i.instance_id = s.last_instance_id "
        "                      AND e.status IN ('Running', 'ContinuedAsNew')) "
        "           OR (NOT EXISTS (SELECT 1 FROM duroxide.instances i "
        "                            WHERE i.instance_id = s.last_instance_id) "
        "               AND EXISTS (SELECT 1 FROM duroxide.orchestrator_queue q "
        "                            WHERE q.instance_id = s.last_instance_id))) "
        "  FROM duroxide.schedules s "
        " WHERE NOT s.paused "
        "   AND (s.next_fire_at <= 'epoch'::timestamptz + $1::bigint * interval '1 millisecond' "
        "        OR s.pending_fire_at IS NOT NULL) "
        " ORDER BY s.next_fire_at "
        " LIMIT $2::int "
        "   FOR UPDATE OF s SKIP LOCKED",
        std::vector<pg::SqlText>{std::to_string(now_ms), std::to_string(limit)});
    std::vector<DueSchedule> due;
    due.reserve(rows.rows.size());
    for (const auto& row : rows.rows) {
        due.push_back({.name = row.at(0).value_or(""),
                       .cron = row.at(1).value_or(""),
                       .time_zone = row.at(2),
                       .overlap = row.at(3).value_or(""),
                       .catch_up = row.at(4).value_or(""),
                       .catch_up_max = std::stoi(row.at(5).value_or("1")),
                       .next_fire_ms = optional_ms(row.at(6)),
                       .pending_fire_ms = optional_ms(row.at(7)),
                       .previous_running = row.at(8).value_or("f") == "t"});
    }
    return due;
}

std::string start_scheduled_run(pg::SpiConnection& spi, const std::string& name,
                                const std::string& instance) {
    const pg::SpiRows rows = Statements(spi).execute("SELECT duroxide._schedule_start($1, $2)",
                                                     std::vector<pg::SqlText>{name, instance});
    return rows.rows.at(0).at(0).value_or("");
}

void advance_schedule(pg::SpiConnection& spi, const ScheduleAdvance& advance) {
    Statements(spi).execute(
        "UPDATE duroxide.schedules s "
        "   SET next_fire_at = 'epoch'::timestamptz + $2::bigint * interval '1 millisecond', "
        "       pending_fire_at = 'epoch'::timestamptz + $3::bigint * interval '1 millisecond', "
        "       last_fire_at = coalesce('epoch'::timestamptz + $4::bigint * interval "
        "'1 millisecond', s.last_fire_at), "
        "       last_instance_id = coalesce($5, s.last_instance_id), "
        "       fires = s.fires + $6::bigint, "
        "       last_error = CASE WHEN $7::text IS NOT NULL THEN $7::text "
        "                         WHEN $6::bigint > 0 THEN NULL ELSE s.last_error END, "
        "       updated_at = pg_catalog.clock_timestamp() "
        " WHERE s.name = $1",
        std::vector<pg::SqlText>{advance.name, ms_text(advance.next_fire_ms),
                                 ms_text(advance.pending_fire_ms), ms_text(advance.last_fire_ms),
                                 advance.last_instance_id, std::to_string(advance.started),
                                 advance.error});
}

} // namespace duroxide::store
