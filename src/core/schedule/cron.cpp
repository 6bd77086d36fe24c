#include "core/schedule/cron.hpp"

#include <array>
#include <cctype>
#include <cstdio>
#include <vector>

namespace duroxide::core::schedule {

namespace {

struct FieldSpec {
    const char* name;
    int min, max;
    const char* const* names; // names[i] is value min_name + i (nullptr: no names)
    int names_base;
    int names_count;
};

constexpr const char* kMonthNames[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                       "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr const char* kDayNames[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

constexpr std::array<FieldSpec, 5> kFields = {{
    {"minute", 0, 59, nullptr, 0, 0},
    {"hour", 0, 23, nullptr, 0, 0},
    {"day of month", 1, 31, nullptr, 0, 0},
    {"month", 1, 12, kMonthNames, 1, 12},
    {"day of week", 0, 7, kDayNames, 0, 7},
}};

std::string shown(std::string_view s) {
    std::string out(s.substr(0, 32));
    if (s.size() > 32) {
        out += "...";
    }
    return out;
}

[[noreturn]] void fail(const FieldSpec& f, std::string_view field, const std::string& why) {
    throw CronError(std::string(f.name) + " field \"" + shown(field) + "\": " + why);
}

int value(const FieldSpec& f, std::string_view field, std::string_view token) {
    if (token.empty()) {
        fail(f, field, "empty value");
    }
    if (std::isdigit(static_cast<unsigned char>(token[0]))) {
        int v = 0;
        for (char c : token) {
            if (!std::isdigit(static_cast<unsigned char>(c)) || v > 1000) {
                fail(f, field, "\"" + shown(token) + "\" is not a number");
            }
            v = v * 10 + (c - '0');
        }
        if (v < f.min || v > f.max) {
            fail(f, field,
                 std::to_string(v) + " is out of range " + std::to_string(f.min) + "-" +
                     std::to_string(f.max));
        }
        return v;
    }
    if (f.names != nullptr && token.size() == 3) {
        for (int i = 0; i < f.names_count; ++i) {
            bool same = true;
            for (std::size_t k = 0; k < 3; ++k) {
                same = same && std::toupper(static_cast<unsigned char>(token[k])) == f.names[i][k];
            }
            if (same) {
                return f.names_base + i;
            }
        }
    }
    fail(f, field, "\"" + shown(token) + "\" is not a " + (f.names ? "number or name" : "number"));
}

// Parses one field into `bits` (index = value); returns whether it starts with '*'.
template <std::size_t N>
bool parse_field(const FieldSpec& f, std::string_view field, std::bitset<N>& bits) {
    std::size_t start = 0;
    while (start <= field.size()) {
        std::size_t comma = field.find(',', start);
        if (comma == std::string_view::npos) {
            comma = field.size();
        }
        std::string_view item = field.substr(start, comma - start);
        int step = 1;
        bool stepped = false;
        if (std::size_t slash = item.find('/'); slash != std::string_view::npos) {
            std::string_view s = item.substr(slash + 1);
            if (s.empty() || s.size() > 3) {
                fail(f, field, "bad step \"" + shown(s) + "\"");
            }
            step = 0;
            for (char c : s) {
                if (!std::isdigit(static_cast<unsigned char>(c))) {
                    fail(f, field, "bad step \"" + shown(s) + "\"");
                }
                step = step * 10 + (c - '0');
            }
            if (step < 1 || step > f.max) {
                fail(f, field,
                     "step " + std::to_string(step) + " is out of range 1-" +
                         std::to_string(f.max));
            }
            item = item.substr(0, slash);
            stepped = true;
        }
        int lo = f.min, hi = f.max;
        if (item == "*") {
        } else if (std::size_t dash = item.find('-'); dash != std::string_view::npos) {
            lo = value(f, field, item.substr(0, dash));
            hi = value(f, field, item.substr(dash + 1));
            if (lo > hi) {
                fail(f, field,
                     "range " + std::to_string(lo) + "-" + std::to_string(hi) + " runs backwards");
            }
        } else {
            lo = value(f, field, item);
            if (!stepped) {
                hi = lo;
            }
        }
        for (int v = lo; v <= hi; v += step) {
            bits.set(static_cast<std::size_t>(v));
        }
        start = comma + 1;
    }
    return field.starts_with('*');
}

std::string_view macro(std::string_view expression) {
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 7> kMacros = {{
        {"@yearly", "0 0 1 1 *"},
        {"@annually", "0 0 1 1 *"},
        {"@monthly", "0 0 1 * *"},
        {"@weekly", "0 0 * * 0"},
        {"@daily", "0 0 * * *"},
        {"@midnight", "0 0 * * *"},
        {"@hourly", "0 * * * *"},
    }};
    for (const auto& [name, expansion] : kMacros) {
        if (expression == name) {
            return expansion;
        }
    }
    throw CronError("unknown macro \"" + shown(expression) +
                    "\" (expected @yearly, @annually, @monthly, @weekly, @daily, @midnight or "
                    "@hourly)");
}

bool blank(char c) {
    return c == ' ' || c == '\t';
}

} // namespace

std::int64_t days_from_civil(int year, int month, int day) {
    const std::int64_t y = static_cast<std::int64_t>(year) - (month <= 2 ? 1 : 0);
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const std::int64_t yoe = y - era * 400;
    const std::int64_t mp = (month + 9) % 12;
    const std::int64_t doy = (153 * mp + 2) / 5 + day - 1;
    const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int weekday(int year, int month, int day) {
    const std::int64_t d = days_from_civil(year, month, day);
    return static_cast<int>(((d % 7) + 7 + 4) % 7); // 1970-01-01 was a Thursday
}

int days_in_month(int year, int month) {
    static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : kDays[month - 1];
}

CivilMinute civil_from_unix_ms(std::int64_t ms) {
    std::int64_t minutes = ms / 60000 - (ms % 60000 < 0 ? 1 : 0);
    std::int64_t days = minutes / 1440 - (minutes % 1440 < 0 ? 1 : 0);
    const int minute_of_day = static_cast<int>(minutes - days * 1440);
    days += 719468;
    const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    const std::int64_t doe = days - era * 146097;
    const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const std::int64_t mp = (5 * doy + 2) / 153;
    const int day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
    const int month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
    const int year = static_cast<int>(yoe + era * 400 + (month <= 2 ? 1 : 0));
    return {year, month, day, minute_of_day / 60, minute_of_day % 60};
}

std::int64_t unix_ms_from_civil(const CivilMinute& t) {
    return ((days_from_civil(t.year, t.month, t.day) * 24 + t.hour) * 60 + t.minute) * 60000;
}

std::string iso8601_utc(const CivilMinute& t) {
    char text[32];
    std::snprintf(text, sizeof(text), "%04d-%02d-%02dT%02d:%02d:00Z", t.year, t.month, t.day,
                  t.hour, t.minute);
    return text;
}

CronSchedule CronSchedule::parse(std::string_view expression) {
    while (!expression.empty() && blank(expression.front())) {
        expression.remove_prefix(1);
    }
    while (!expression.empty() && blank(expression.back())) {
        expression.remove_suffix(1);
    }
    if (expression.starts_with('@')) {
        expression = macro(expression);
    }
    std::vector<std::string_view> fields;
    std::size_t i = 0;
    while (i < expression.size()) {
        while (i < expression.size() && blank(expression[i])) {
            ++i;
        }
        const std::size_t start = i;
        while (i < expression.size() && !blank(expression[i])) {
            ++i;
        }
        if (i > start) {
            fields.push_back(expression.substr(start, i - start));
        }
    }
    if (fields.size() != 5) {
        throw CronError("a cron expression has 5 fields (minute hour day-of-month month "
                        "day-of-week), not " +
                        std::to_string(fields.size()));
    }
    CronSchedule s;
    parse_field(kFields[0], fields[0], s.minutes_);
    parse_field(kFields[1], fields[1], s.hours_);
    s.days_restricted_ = !parse_field(kFields[2], fields[2], s.days_);
    parse_field(kFields[3], fields[3], s.months_);
    std::bitset<8> weekdays;
    s.weekdays_restricted_ = !parse_field(kFields[4], fields[4], weekdays);
    for (std::size_t d = 0; d < 8; ++d) {
        if (weekdays.test(d)) {
            s.weekdays_.set(d % 7);
        }
    }
    // A day of month that no selected month has (30 2 *, 31 4,6 *) never fires.
    if (!s.weekdays_restricted_) {
        bool possible = false;
        for (int m = 1; m <= 12 && !possible; ++m) {
            for (int d = 1; s.months_.test(static_cast<std::size_t>(m)) &&
                            d <= days_in_month(2000, m) && !possible;
                 ++d) {
                possible = s.days_.test(static_cast<std::size_t>(d));
            }
        }
        if (!possible) {
            throw CronError("the day of month never occurs in the selected months: the "
                            "expression never fires");
        }
    }
    return s;
}

bool CronSchedule::day_matches(int year, int month, int day) const {
    const bool dom = days_.test(static_cast<std::size_t>(day));
    const bool dow = weekdays_.test(static_cast<std::size_t>(weekday(year, month, day)));
    if (days_restricted_ && weekdays_restricted_) {
        return dom || dow;
    }
    return dom && dow;
}

bool CronSchedule::matches(const CivilMinute& t) const {
    return minutes_.test(static_cast<std::size_t>(t.minute)) &&
           hours_.test(static_cast<std::size_t>(t.hour)) &&
           months_.test(static_cast<std::size_t>(t.month)) && day_matches(t.year, t.month, t.day);
}

std::optional<CivilMinute> CronSchedule::next_after(const CivilMinute& after) const {
    // Step from the minute after `after`, skipping whole months, days and hours that cannot
    // match: at most a few hundred iterations per year searched.
    CivilMinute t = civil_from_unix_ms(unix_ms_from_civil(after) + 60000);
    const int last_year = after.year + kSearchYears;
    while (t.year <= last_year) {
        if (!months_.test(static_cast<std::size_t>(t.month))) {
            t = {t.month == 12 ? t.year + 1 : t.year, t.month == 12 ? 1 : t.month + 1, 1, 0, 0};
            continue;
        }
        if (!day_matches(t.year, t.month, t.day)) {
            t = civil_from_unix_ms(unix_ms_from_civil({t.year, t.month, t.day, 0, 0}) +
                                   24LL * 3600 * 1000);
            continue;
        }
        if (!hours_.test(static_cast<std::size_t>(t.hour))) {
            t = civil_from_unix_ms(unix_ms_from_civil({t.year, t.month, t.day, t.hour, 0}) +
                                   3600LL * 1000);
            continue;
        }
        if (!minutes_.test(static_cast<std::size_t>(t.minute))) {
            t = civil_from_unix_ms(unix_ms_from_civil(t) + 60000);
            continue;
        }
        return t;
    }
    return std::nullopt;
}

std::optional<std::int64_t> CronSchedule::next_after_utc_ms(std::int64_t after_ms) const {
    const std::optional<CivilMinute> next = next_after(civil_from_unix_ms(after_ms));
    if (!next) {
        return std::nullopt;
    }
    return unix_ms_from_civil(*next);
}

} // namespace duroxide::core::schedule
