#include "core/observe/timeline_svg.hpp"

#include "core/observe/text.hpp"

#include <algorithm>
#include <ctime>
#include <string_view>

namespace duroxide::core::observe {

namespace {

constexpr int kWidth = 1100;
constexpr int kLabelWidth = 360;
constexpr int kRightMargin = 90; // room for the duration after a bar that ends at the edge
constexpr int kHeader = 92;
constexpr int kRowHeight = 22;
constexpr int kBarHeight = 14;
constexpr int kIndent = 14;
constexpr int kPlotWidth = kWidth - kLabelWidth - kRightMargin;

struct Style {
    const char* fill;
    const char* stroke;
};

Style style_of(Outcome outcome) {
    switch (outcome) {
    case Outcome::Completed:
        return {"#43a047", "#2e7d32"};
    case Outcome::Failed:
        return {"#e53935", "#b71c1c"};
    case Outcome::Cancelled:
        return {"url(#hatch)", "#757575"};
    case Outcome::Running:
        return {"#1e88e5", "#1565c0"};
    }
    return {"#1e88e5", "#1565c0"};
}

const char* kind_class(RowKind kind) {
    switch (kind) {
    case RowKind::Instance:
        return "instance";
    case RowKind::Activity:
        return "activity";
    case RowKind::Timer:
        return "timer";
    case RowKind::Wait:
        return "wait";
    case RowKind::Dequeue:
        return "dequeue";
    case RowKind::SubOrchestration:
        return "suborchestration";
    }
    return "activity";
}

std::string label_of(const TimelineRow& row) {
    switch (row.kind) {
    case RowKind::Instance:
        return row.name + " " + row.instance;
    case RowKind::Activity:
        return row.attempt > 1 ? row.name + " (attempt " + std::to_string(row.attempt) + ")"
                               : row.name;
    case RowKind::Timer:
        return "timer";
    case RowKind::Wait:
        return "wait for event " + row.name;
    case RowKind::Dequeue:
        return "dequeue " + row.name;
    case RowKind::SubOrchestration:
        return "sub-orchestration " + row.name;
    }
    return row.name;
}

std::string story_of(const TimelineRow& row, uint64_t now_ms) {
    std::string text = std::string(kind_class(row.kind)) + " " + label_of(row);
    if (row.kind == RowKind::Instance && row.execution_id) {
        text += ", execution " + std::to_string(*row.execution_id);
    }
    if (row.child) {
        text += ", child " + *row.child;
    }
    const uint64_t end = row.end_ms.value_or(std::max(now_ms, row.start_ms));
    text += row.end_ms ? std::string(": ") + outcome_name(row.outcome) + " after "
                       : std::string(": running for ");
    text += duration_text(end - row.start_ms);
    if (!row.detail.empty()) {
        text += " (" + row.detail + ")";
    }
    return text;
}

std::string utc_text(uint64_t ms) {
    const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
    std::tm parts{};
    if (!gmtime_r(&seconds, &parts)) {
        return "";
    }
    char buffer[32];
    const std::size_t n = std::strftime(buffer, sizeof buffer, "%Y-%m-%d %H:%M:%S UTC", &parts);
    return std::string(buffer, n);
}

// A step of 1, 2 or 5 times a power of ten milliseconds giving at most 8 ticks over `span`.
uint64_t tick_step(uint64_t span) {
    for (uint64_t power = 1;; power *= 10) {
        for (uint64_t factor : {1, 2, 5}) {
            if (span / (power * factor) <= 8) {
                return power * factor;
            }
        }
    }
}

class Svg {
public:
    explicit Svg(const Timeline& t) : t_(t), span_(std::max<uint64_t>(t.end_ms - t.start_ms, 1)) {}

    std::string render() {
        const int rows = static_cast<int>(t_.rows.size()) + (t_.rows_left_out ? 1 : 0);
        const int height = kHeader + std::max(rows, 1) * kRowHeight + 12;
        const std::string w = std::to_string(kWidth), h = std::to_string(height);
        out_ += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
        out_ += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + w + "\" height=\"" + h +
                "\" viewBox=\"0 0 " + w + " " + h +
                "\" font-family=\"DejaVu Sans, Arial, sans-serif\" font-size=\"12\">\n";
        out_ +=
            "<title>" + xml_escape(shorten("duroxide timeline of " + t_.root, 300)) + "</title>\n";
        out_ += "<defs><pattern id=\"hatch\" width=\"6\" height=\"6\" "
                "patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">"
                "<rect width=\"6\" height=\"6\" fill=\"#bdbdbd\"/>"
                "<line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#616161\" "
                "stroke-width=\"2\"/></pattern></defs>\n";
        out_ += "<rect width=\"" + w + "\" height=\"" + h + "\" fill=\"#ffffff\"/>\n";
        header();
        axis(height);
        int y = kHeader;
        for (const auto& row : t_.rows) {
            draw(row, y);
            y += kRowHeight;
        }
        if (t_.rows_left_out) {
            text(10, y + 15, "... " + std::to_string(t_.rows_left_out) + " more rows not shown",
                 "class=\"more\" fill=\"#616161\"");
        }
        if (t_.rows.empty()) {
            text(10, y + 15, "no history", "fill=\"#616161\"");
        }
        out_ += "</svg>\n";
        return std::move(out_);
    }

private:
    int x_of(uint64_t ms) const {
        const uint64_t offset = ms > t_.start_ms ? ms - t_.start_ms : 0;
        return kLabelWidth + static_cast<int>(offset * kPlotWidth / span_);
    }

    void text(int x, int y, std::string_view content, std::string_view attributes = {}) {
        out_ += "<text x=\"" + std::to_string(x) + "\" y=\"" + std::to_string(y) + "\"";
        if (!attributes.empty()) {
            out_ += " ";
            out_ += attributes;
        }
        out_ += ">" + xml_escape(content) + "</text>\n";
    }

    void rect(int x, int y, int width, int height, std::string_view fill, std::string_view extra) {
        out_ += "<rect x=\"" + std::to_string(x) + "\" y=\"" + std::to_string(y) + "\" width=\"" +
                std::to_string(width) + "\" height=\"" + std::to_string(height) + "\" fill=\"";
        out_ += fill;
        out_ += "\"";
        if (!extra.empty()) {
            out_ += " ";
            out_ += extra;
        }
        out_ += "/>\n";
    }

    void header() {
        std::string title = "instance " + shorten(t_.root, 80);
        if (!t_.rows.empty()) {
            const TimelineRow& root = t_.rows.front();
            title += " (" + shorten(root.name, 60) + "): " + outcome_name(root.outcome);
        }
        text(10, 20, title, "font-size=\"15\" font-weight=\"bold\"");
        text(10, 38, "started " + utc_text(t_.start_ms) + ", spans " + duration_text(span_),
             "fill=\"#424242\"");
        int x = 10;
        for (Outcome o :
             {Outcome::Completed, Outcome::Failed, Outcome::Cancelled, Outcome::Running}) {
            const Style s = style_of(o);
            rect(x, 48, 14, 10, s.fill, std::string("stroke=\"") + s.stroke + "\"");
            text(x + 18, 57, outcome_name(o));
            x += 100;
        }
        text(x, 57, "\xE2\x86\xBB retry (attempt n)", "fill=\"#e65100\"");
    }

    void axis(int height) {
        const uint64_t step = tick_step(span_);
        for (uint64_t tick = 0; tick <= span_; tick += step) {
            const int x = x_of(t_.start_ms + tick);
            out_ += "<line class=\"tick\" x1=\"" + std::to_string(x) + "\" y1=\"" +
                    std::to_string(kHeader - 8) + "\" x2=\"" + std::to_string(x) + "\" y2=\"" +
                    std::to_string(height - 6) + "\" stroke=\"#e0e0e0\"/>\n";
            text(x + 2, kHeader - 12, tick == 0 ? "0" : "+" + duration_text(tick),
                 "font-size=\"10\" fill=\"#757575\"");
        }
    }

    void draw(const TimelineRow& row, int y) {
        const Style s = style_of(row.outcome);
        const bool instance = row.kind == RowKind::Instance;
        out_ += std::string("<g class=\"row ") + kind_class(row.kind) + " " +
                outcome_name(row.outcome) + "\"";
        if (row.kind == RowKind::Activity) {
            out_ += " data-attempt=\"" + std::to_string(row.attempt) + "\"";
        }
        out_ += ">\n<title>" + xml_escape(shorten(story_of(row, t_.end_ms), 400)) + "</title>\n";
        if (instance) {
            rect(0, y, kWidth, kRowHeight, "#f5f5f5", "");
        }
        const int indent = 10 + row.depth * 2 * kIndent + (instance ? 0 : kIndent);
        const std::size_t room = static_cast<std::size_t>(std::max(6, (kLabelWidth - indent) / 7));
        text(indent, y + 15, shorten(label_of(row), room), instance ? "font-weight=\"bold\"" : "");
        const uint64_t end = row.end_ms.value_or(std::max(t_.end_ms, row.start_ms));
        const int x1 = x_of(row.start_ms);
        const int width = std::max(2, x_of(end) - x1);
        const int bar_y = y + (kRowHeight - kBarHeight) / 2;
        std::string extra = std::string("class=\"bar\" stroke=\"") + s.stroke + "\"";
        if (instance) {
            extra += " fill-opacity=\"0.35\"";
        }
        if (row.outcome == Outcome::Running) {
            extra += " stroke-dasharray=\"4 2\"";
        }
        rect(x1, bar_y, width, kBarHeight, s.fill, extra);
        int after = x1 + width + 4;
        if (row.attempt > 1) {
            text(after, y + 15, "\xE2\x86\xBB" + std::to_string(row.attempt),
                 "class=\"retry\" fill=\"#e65100\"");
            after += 26;
        }
        if (row.outcome == Outcome::Cancelled) {
            text(after, y + 15, "\xE2\x9C\x95", "class=\"cancel\" fill=\"#424242\"");
            after += 14;
        }
        text(after, y + 15,
             row.end_ms ? duration_text(end - row.start_ms)
                        : duration_text(end - row.start_ms) + "\xE2\x80\xA6",
             "font-size=\"10\" fill=\"#616161\"");
        out_ += "</g>\n";
    }

    const Timeline& t_;
    uint64_t span_;
    std::string out_;
};

} // namespace

std::string timeline_svg(const Timeline& timeline) {
    return Svg(timeline).render();
}

} // namespace duroxide::core::observe
