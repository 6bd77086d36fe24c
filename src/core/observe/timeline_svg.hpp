// A timeline as a self-contained SVG picture (no scripts, fonts or links to load): a header
// with the root instance, a legend and a time axis, then one row per timeline row with its
// label on the left and a bar from schedule to completion coloured by outcome. Retries are
// labelled with their attempt and marked, cancelled work is hatched, running work is drawn to
// "now" with an open end. Each row is a <g class="row KIND OUTCOME"> with a <title> (shown on
// hover) giving the whole story. Every user value is XML-escaped and shortened.
#pragma once

#include "core/observe/timeline.hpp"

#include <string>

namespace duroxide::core::observe {

std::string timeline_svg(const Timeline& timeline);

} // namespace duroxide::core::observe
