// Text helpers of the instance pictures: user values (instance ids, names, error messages)
// made safe for XML and Mermaid, and shortened without splitting a UTF-8 character.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace duroxide::core::observe {

// `text` with &, <, >, " and ' as character references, and every character XML 1.0 cannot
// hold (control characters other than tab, newline and carriage return; malformed UTF-8) as
// U+FFFD, so that any value is well-formed character data or attribute text.
std::string xml_escape(std::string_view text);

// At most `max_chars` characters of `text` (counted as UTF-8 code points), with "..." in
// place of the rest when it was longer. Newlines and tabs become spaces.
std::string shorten(std::string_view text, std::size_t max_chars);

// `text` for a quoted Mermaid label: every character other than letters, digits, space and
// _ . , : / - ( ) as a Mermaid entity code ("#35;"), so no value can end the label or add
// syntax.
std::string mermaid_escape(std::string_view text);

// "250 ms", "1.5 s", "2 min 5 s", "3 h 10 min" (rounded down).
std::string duration_text(uint64_t ms);

} // namespace duroxide::core::observe
