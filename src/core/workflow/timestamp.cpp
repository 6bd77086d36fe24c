#include "core/workflow/timestamp.hpp"

#include <cmath>

namespace duroxide::core::workflow {

namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool leap(std::int64_t y) {
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

class Cursor {
public:
    explicit Cursor(std::string_view s) : s_(s) {}
    bool done() const { return i_ == s_.size(); }
    bool take(char c) {
        if (!done() && s_[i_] == c) {
            ++i_;
            return true;
        }
        return false;
    }
    char peek() const { return done() ? '\0' : s_[i_]; }
    // Exactly n digits.
    std::optional<int> digits(int n) {
        int v = 0;
        for (int k = 0; k < n; ++k) {
            if (done() || s_[i_] < '0' || s_[i_] > '9') {
                return std::nullopt;
            }
            v = v * 10 + (s_[i_++] - '0');
        }
        return v;
    }
    // A fraction's digits as milliseconds (further digits are cut).
    std::optional<int> fraction_ms() {
        int v = 0, n = 0;
        while (!done() && s_[i_] >= '0' && s_[i_] <= '9') {
            if (n < 3) {
                v = v * 10 + (s_[i_] - '0');
            }
            ++n;
            ++i_;
        }
        if (n == 0) {
            return std::nullopt;
        }
        for (; n < 3; ++n) {
            v *= 10;
        }
        return v;
    }

private:
    std::string_view s_;
    std::size_t i_ = 0;
};

} // namespace

std::optional<std::int64_t> parse_iso8601_ms(std::string_view text) {
    static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    Cursor c(text);
    const auto year = c.digits(4);
    if (!year || !c.take('-')) {
        return std::nullopt;
    }
    const auto month = c.digits(2);
    if (!month || *month < 1 || *month > 12 || !c.take('-')) {
        return std::nullopt;
    }
    const auto day = c.digits(2);
    if (!day || *day < 1 || *day > kDays[*month - 1] + (*month == 2 && leap(*year) ? 1 : 0)) {
        return std::nullopt;
    }
    int hour = 0, minute = 0, second = 0, ms = 0;
    if (c.take('T') || c.take(' ')) {
        const auto h = c.digits(2);
        if (!h || *h > 23 || !c.take(':')) {
            return std::nullopt;
        }
        const auto m = c.digits(2);
        if (!m || *m > 59) {
            return std::nullopt;
        }
        hour = *h;
        minute = *m;
        if (c.take(':')) {
            const auto sec = c.digits(2);
            if (!sec || *sec > 59) {
                return std::nullopt;
            }
            second = *sec;
            if (c.take('.')) {
                const auto f = c.fraction_ms();
                if (!f) {
                    return std::nullopt;
                }
                ms = *f;
            }
        }
    }
    std::int64_t offset_minutes = 0;
    if (c.take('Z')) {
    } else if (c.peek() == '+' || c.peek() == '-') {
        const int sign = c.take('-') ? -1 : (c.take('+'), 1);
        const auto oh = c.digits(2);
        if (!oh || *oh > 15) {
            return std::nullopt;
        }
        int om = 0;
        if (!c.done()) {
            c.take(':');
            const auto m = c.digits(2);
            if (!m || *m > 59) {
                return std::nullopt;
            }
            om = *m;
        }
        offset_minutes = sign * (*oh * 60 + om);
    }
    if (!c.done()) {
        return std::nullopt;
    }
    const std::int64_t days =
        days_from_civil(*year, static_cast<unsigned>(*month), static_cast<unsigned>(*day));
    const std::int64_t local_ms = ((days * 24 + hour) * 60 + minute) * 60'000 + second * 1000 + ms;
    return local_ms - offset_minutes * 60'000;
}

std::optional<std::int64_t> timestamp_ms(const Json& value) {
    if (value.is_int()) {
        return value.as_int();
    }
    if (value.is_number()) {
        const double ms = value.as_double();
        if (!std::isfinite(ms) || std::fabs(ms) > 9.0e15) {
            return std::nullopt;
        }
        return static_cast<std::int64_t>(std::llround(ms));
    }
    if (value.is_string()) {
        return parse_iso8601_ms(value.as_string());
    }
    return std::nullopt;
}

} // namespace duroxide::core::workflow
