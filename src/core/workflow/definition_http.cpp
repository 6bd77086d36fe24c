// Validation of the http and http_multipart nodes (definition_http.hpp).
#include "core/workflow/definition_http.hpp"

#include "core/workflow/definition_fields.hpp"

#include <algorithm>
#include <cctype>
#include <set>
#include <utility>

namespace duroxide::core::workflow {

using namespace fields;

namespace {

std::string lowered(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

// A part's name, filename or content type: text without quotes or line breaks (they go
// into the part's headers).
std::string header_text(const Json& v, const std::string& path, std::size_t max) {
    std::string s = string_field(v, path);
    if (s.empty() || s.size() > max) {
        throw DefinitionError(path, "must be 1 to " + std::to_string(max) + " characters");
    }
    if (s.find_first_of("\"\r\n") != std::string::npos) {
        throw DefinitionError(path, "must not contain a double quote or a line break");
    }
    return s;
}

// "parts": [{"name", "value", "filename"?, "content_type"?}, ...]: the value is a template
// (text is sent as it is, any other JSON as its text, typed application/json); a part with a
// filename is a file part.
Json multipart_parts(const Json& parts, const std::string& path, const ValidationContext& ctx) {
    if (!parts.is_array() || parts.as_array().empty() ||
        parts.as_array().size() > kMaxMultipartParts) {
        throw DefinitionError(path, "must be an array of 1 to " +
                                        std::to_string(kMaxMultipartParts) + " parts");
    }
    JsonArray out;
    for (std::size_t i = 0; i < parts.as_array().size(); ++i) {
        const std::string at = path + "[" + std::to_string(i) + "]";
        const Json& p = parts.as_array()[i];
        if (!p.is_object()) {
            throw DefinitionError(at, "a part must be an object {\"name\", \"value\", "
                                      "\"filename\"?, \"content_type\"?}");
        }
        for (const auto& [field, v] : p.as_object()) {
            (void)v;
            if (field != "name" && field != "value" && field != "filename" &&
                field != "content_type") {
                throw DefinitionError(at + "." + field, "unknown field of a multipart part");
            }
        }
        JsonObject part;
        part["name"] = Json(header_text(required(p, "name", at), at + ".name", 128));
        part["value"] = value_template(required(p, "value", at), at + ".value", ctx);
        if (const Json* f = p.find("filename")) {
            part["filename"] = Json(header_text(*f, at + ".filename", 255));
        }
        if (const Json* t = p.find("content_type")) {
            const std::string type = header_text(*t, at + ".content_type", 255);
            if (type.find('/') == std::string::npos) {
                throw DefinitionError(at + ".content_type",
                                      "must be a media type such as \"text/csv\" (got \"" +
                                          truncated(type) + "\")");
            }
            part["content_type"] = Json(type);
        }
        out.push_back(Json(std::move(part)));
    }
    return Json(std::move(out));
}

// expect_status: a status, an array of statuses and "from-to" ranges, or a range alone
// ("200-299", the default).
Json expect_status(const Json* v, const std::string& path) {
    JsonArray ranges;
    auto status = [&path](std::int64_t s) {
        if (s < 100 || s > 599) {
            throw DefinitionError(path, "a status must be from 100 to 599");
        }
        return s;
    };
    auto add = [&](const Json& e) {
        if (e.is_int()) {
            const std::int64_t s = status(e.as_int());
            ranges.push_back(Json(JsonArray{Json(s), Json(s)}));
            return;
        }
        if (e.is_string()) {
            const std::string& text = e.as_string();
            const auto dash = text.find('-');
            try {
                std::size_t used = 0;
                if (dash != std::string::npos && dash > 0) {
                    const std::int64_t from = status(std::stoll(text.substr(0, dash), &used));
                    if (used == dash) {
                        const std::string rest = text.substr(dash + 1);
                        const std::int64_t to = status(std::stoll(rest, &used));
                        if (used == rest.size() && from <= to) {
                            ranges.push_back(Json(JsonArray{Json(from), Json(to)}));
                            return;
                        }
                    }
                }
            } catch (const std::logic_error&) {
            }
        }
        throw DefinitionError(path, "must be a status (200), a range (\"200-299\") or an "
                                    "array of those");
    };
    if (v == nullptr) {
        ranges.push_back(Json(JsonArray{Json(std::int64_t{200}), Json(std::int64_t{299})}));
    } else if (v->is_array()) {
        if (v->as_array().empty()) {
            throw DefinitionError(path, "must not be empty");
        }
        for (const auto& e : v->as_array()) {
            add(e);
        }
    } else {
        add(*v);
    }
    return Json(std::move(ranges));
}

} // namespace

// An http node's request template: {"method", "url", "headers", "body", "timeout_ms",
// "expect": [[from, to], ...]} (url, header values and body may be expressions); an
// http_multipart node has "parts" (multipart_parts) instead of "body".
void parse_http_node(Node& n, const Json& json, const std::string& path,
                     const ValidationContext& ctx) {
    JsonObject call;
    const bool multipart = string_field(required(json, "kind", path), path) == "http_multipart";
    std::string method = multipart ? "POST" : "GET";
    if (const Json* m = json.find("method")) {
        method = string_field(*m, path + ".method");
        static const std::set<std::string> methods = {"GET",   "HEAD",   "POST",   "PUT",
                                                      "PATCH", "DELETE", "OPTIONS"};
        if (multipart && method != "POST" && method != "PUT" && method != "PATCH") {
            throw DefinitionError(path + ".method", "must be POST, PUT or PATCH for a multipart "
                                                    "request (got \"" +
                                                        truncated(method) + "\")");
        }
        if (methods.count(method) == 0) {
            throw DefinitionError(path + ".method",
                                  "must be GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS "
                                  "(got \"" +
                                      truncated(method) + "\")");
        }
    }
    call["method"] = Json(method);
    const Json& url = required(json, "url", path);
    if (!url.is_string() || url.as_string().empty()) {
        throw DefinitionError(path + ".url", "must be a non-empty string");
    }
    if (!is_expression_string(url.as_string()) && !url.as_string().starts_with("http://") &&
        !url.as_string().starts_with("https://")) {
        throw DefinitionError(path + ".url", "must start with http:// or https:// (got \"" +
                                                 truncated(url.as_string()) + "\")");
    }
    call["url"] = value_template(url, path + ".url", ctx);
    if (const Json* h = json.find("headers")) {
        if (!h->is_object()) {
            throw DefinitionError(path + ".headers", "must be an object of header values");
        }
        for (const auto& [name, value] : h->as_object()) {
            if (name.empty() || name.find_first_of(":\r\n ") != std::string::npos) {
                throw DefinitionError(path + ".headers",
                                      "bad header name \"" + truncated(name) + "\"");
            }
            if (multipart && lowered(name) == "content-type") {
                throw DefinitionError(path + ".headers",
                                      "a multipart request sets its own Content-Type (with the "
                                      "boundary); give each part's content_type instead");
            }
            (void)value;
        }
        call["headers"] = value_template(*h, path + ".headers", ctx);
    } else {
        call["headers"] = Json(JsonObject{});
    }
    if (multipart) {
        call["parts"] = multipart_parts(required(json, "parts", path), path + ".parts", ctx);
    } else if (const Json* b = json.find("body")) {
        call["body"] = value_template(*b, path + ".body", ctx);
    }
    std::int64_t timeout = kDefaultHttpTimeoutMs;
    if (const Json* t = json.find("timeout")) {
        timeout = interval_field(*t, path + ".timeout");
        if (timeout < 1) {
            throw DefinitionError(path + ".timeout", "must be at least 1 ms");
        }
    }
    call["timeout_ms"] = Json(timeout);
    call["expect"] = expect_status(json.find("expect_status"), path + ".expect_status");
    if (const Json* r = json.find("retry")) {
        n.retry = retry(*r, path + ".retry");
    }
    if (const Json* t = json.find("tag")) {
        n.tag = string_field(*t, path + ".tag");
    }
    n.value = Json(std::move(call));
}

} // namespace duroxide::core::workflow
