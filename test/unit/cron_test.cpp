// The cron module (src/core/schedule/cron): parsing, errors, and the next fire time.
#include "core/schedule/cron.hpp"

#include <gtest/gtest.h>

#include <string>

using duroxide::core::schedule::CivilMinute;
using duroxide::core::schedule::CronError;
using duroxide::core::schedule::CronSchedule;
namespace sched = duroxide::core::schedule;

namespace {

CivilMinute next(std::string_view cron, CivilMinute after) {
    const auto n = CronSchedule::parse(cron).next_after(after);
    EXPECT_TRUE(n.has_value()) << cron;
    return n.value_or(CivilMinute{});
}

std::string error_of(std::string_view cron) {
    try {
        (void)CronSchedule::parse(cron);
    } catch (const CronError& e) {
        return e.what();
    }
    return "(accepted)";
}

} // namespace

TEST(CronCalendar, CivilConversionsRoundTrip) {
    EXPECT_EQ(sched::days_from_civil(1970, 1, 1), 0);
    EXPECT_EQ(sched::days_from_civil(2000, 3, 1), 11017);
    EXPECT_EQ(sched::weekday(1970, 1, 1), 4);  // Thursday
    EXPECT_EQ(sched::weekday(2026, 12, 7), 1); // Monday
    EXPECT_EQ(sched::weekday(1969, 12, 28), 0);
    EXPECT_EQ(sched::days_in_month(2024, 2), 29);
    EXPECT_EQ(sched::days_in_month(2100, 2), 28);
    EXPECT_EQ(sched::days_in_month(2000, 2), 29);
    const CivilMinute t{2026, 12, 7, 13, 54};
    EXPECT_EQ(sched::civil_from_unix_ms(sched::unix_ms_from_civil(t) + 59999), t);
    EXPECT_EQ(sched::civil_from_unix_ms(-1), (CivilMinute{1969, 12, 31, 23, 59}));
    EXPECT_EQ(sched::iso8601_utc(t), "2026-12-07T13:54:00Z");
}

TEST(CronNext, EveryMinuteIsTheNextMinute) {
    EXPECT_EQ(next("* * * * *", {2026, 12, 31, 23, 59}), (CivilMinute{2027, 1, 1, 0, 0}));
}

TEST(CronNext, StrictlyAfter) {
    EXPECT_EQ(next("0 9 * * *", {2026, 12, 7, 9, 0}), (CivilMinute{2026, 12, 8, 9, 0}));
    EXPECT_EQ(next("0 9 * * *", {2026, 12, 7, 8, 59}), (CivilMinute{2026, 12, 7, 9, 0}));
}

TEST(CronNext, RangesStepsListsAndNames) {
    // Weekdays at 09:30: from Friday evening to Monday morning.
    EXPECT_EQ(next("30 9 * * MON-FRI", {2026, 12, 11, 18, 0}), (CivilMinute{2026, 12, 14, 9, 30}));
    EXPECT_EQ(next("*/15 * * * *", {2026, 12, 7, 10, 44}), (CivilMinute{2026, 12, 7, 10, 45}));
    EXPECT_EQ(next("5/20 * * * *", {2026, 12, 7, 10, 46}), (CivilMinute{2026, 12, 7, 11, 5}));
    EXPECT_EQ(next("0 8-18/4 * * *", {2026, 12, 7, 12, 1}), (CivilMinute{2026, 12, 7, 16, 0}));
    EXPECT_EQ(next("0 0 1,15 * *", {2026, 12, 2, 0, 0}), (CivilMinute{2026, 12, 15, 0, 0}));
    EXPECT_EQ(next("0 0 1 jan,Jul *", {2026, 12, 2, 0, 0}), (CivilMinute{2027, 1, 1, 0, 0}));
    EXPECT_EQ(next("0 0 * * 7", {2026, 12, 7, 0, 0}), (CivilMinute{2026, 12, 13, 0, 0}));
    EXPECT_EQ(next("0 0 * * sun", {2026, 12, 7, 0, 0}), (CivilMinute{2026, 12, 13, 0, 0}));
}

TEST(CronNext, DayOfMonthOrDayOfWeekWhenBothRestricted) {
    // The 13th or any Friday: from Monday 2026-12-07, Friday the 11th comes first.
    EXPECT_EQ(next("0 0 13 * FRI", {2026, 12, 7, 0, 0}), (CivilMinute{2026, 12, 11, 0, 0}));
    EXPECT_EQ(next("0 0 13 * FRI", {2026, 12, 11, 0, 0}), (CivilMinute{2026, 12, 13, 0, 0}));
    // A star in either field: both must match (every Friday, every day of month).
    EXPECT_EQ(next("0 0 * * FRI", {2026, 12, 11, 0, 0}), (CivilMinute{2026, 12, 18, 0, 0}));
    // */2 starts with '*': counts as unrestricted, so the days must be odd AND Fridays.
    EXPECT_EQ(next("0 0 */2 * FRI", {2026, 12, 7, 0, 0}), (CivilMinute{2026, 12, 11, 0, 0}));
    EXPECT_EQ(next("0 0 */2 * FRI", {2026, 12, 11, 0, 0}), (CivilMinute{2026, 12, 25, 0, 0}));
}

TEST(CronNext, LeapDayAndMonthEnds) {
    EXPECT_EQ(next("0 12 29 2 *", {2026, 3, 1, 0, 0}), (CivilMinute{2028, 2, 29, 12, 0}));
    EXPECT_EQ(next("0 0 31 * *", {2026, 4, 1, 0, 0}), (CivilMinute{2026, 5, 31, 0, 0}));
}

TEST(CronNext, Macros) {
    EXPECT_EQ(next("@hourly", {2026, 12, 7, 10, 0}), (CivilMinute{2026, 12, 7, 11, 0}));
    EXPECT_EQ(next("@daily", {2026, 12, 7, 10, 0}), (CivilMinute{2026, 12, 8, 0, 0}));
    EXPECT_EQ(next("@weekly", {2026, 12, 7, 10, 0}), (CivilMinute{2026, 12, 13, 0, 0}));
    EXPECT_EQ(next("@monthly", {2026, 12, 7, 10, 0}), (CivilMinute{2027, 1, 1, 0, 0}));
    EXPECT_EQ(next(" @yearly ", {2026, 12, 7, 10, 0}), (CivilMinute{2027, 1, 1, 0, 0}));
}

TEST(CronNext, UtcMilliseconds) {
    const auto s = CronSchedule::parse("0 9 * * *");
    const std::int64_t at = sched::unix_ms_from_civil({2026, 12, 7, 9, 0});
    EXPECT_EQ(s.next_after_utc_ms(at - 1), at);
    EXPECT_EQ(s.next_after_utc_ms(at), at + 24LL * 3600 * 1000);
}

TEST(CronNext, AgreesWithMinuteByMinuteSearch) {
    // Brute force over two months for a few expressions: next_after's skipping is exact.
    for (const char* cron : {"*/7 3-5 * * *", "0 0 13 * FRI", "15 10 1-7 * MON", "0 */5 * 2 *"}) {
        const auto s = CronSchedule::parse(cron);
        std::int64_t t = sched::unix_ms_from_civil({2027, 1, 20, 0, 0});
        const std::int64_t end = sched::unix_ms_from_civil({2027, 3, 20, 0, 0});
        std::int64_t expected = t + 60000;
        while (t < end) {
            while (!s.matches(sched::civil_from_unix_ms(expected))) {
                expected += 60000;
            }
            ASSERT_EQ(s.next_after_utc_ms(t), expected) << cron << " after " << t;
            t = expected;
            expected += 60000;
        }
    }
}

TEST(CronParse, ErrorsNameTheField) {
    EXPECT_EQ(error_of("* * * *"), "a cron expression has 5 fields (minute hour day-of-month "
                                   "month day-of-week), not 4");
    EXPECT_EQ(error_of("60 * * * *"), "minute field \"60\": 60 is out of range 0-59");
    EXPECT_EQ(error_of("* 24 * * *"), "hour field \"24\": 24 is out of range 0-23");
    EXPECT_EQ(error_of("* * 0 * *"), "day of month field \"0\": 0 is out of range 1-31");
    EXPECT_EQ(error_of("* * * FOO *"), "month field \"FOO\": \"FOO\" is not a number or name");
    EXPECT_EQ(error_of("* * * * MON-SUNDAY"),
              "day of week field \"MON-SUNDAY\": \"SUNDAY\" is not a number or name");
    EXPECT_EQ(error_of("5-1 * * * *"), "minute field \"5-1\": range 5-1 runs backwards");
    EXPECT_EQ(error_of("*/0 * * * *"), "minute field \"*/0\": step 0 is out of range 1-59");
    EXPECT_EQ(error_of("*/ * * * *"), "minute field \"*/\": bad step \"\"");
    EXPECT_EQ(error_of("1,,2 * * * *"), "minute field \"1,,2\": empty value");
    EXPECT_EQ(error_of("x * * * *"), "minute field \"x\": \"x\" is not a number");
    EXPECT_EQ(error_of("@often"), "unknown macro \"@often\" (expected @yearly, @annually, "
                                  "@monthly, @weekly, @daily, @midnight or @hourly)");
    EXPECT_EQ(error_of("0 0 30 2 *"),
              "the day of month never occurs in the selected months: the expression never fires");
    EXPECT_EQ(error_of("0 0 31 4,6,9,11 *"),
              "the day of month never occurs in the selected months: the expression never fires");
    // With a restricted day of week the OR rule makes it fire on Mondays.
    EXPECT_EQ(error_of("0 0 30 2 MON"), "(accepted)");
    EXPECT_EQ(error_of(""), "a cron expression has 5 fields (minute hour day-of-month month "
                            "day-of-week), not 0");
}
