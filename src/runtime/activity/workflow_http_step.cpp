// The `http` step of SQL-authored workflows (__duroxide_syscall:workflow_http): one request
// with libcurl, run by an activity worker on its main stack. Off by default: the URL's host
// must be on duroxide.http_allowed_hosts, checked before any connection; only http and https,
// no redirects, no proxy from the environment, the response capped by
// duroxide.max_payload_size. No PostgreSQL call is made while curl runs.
#include "runtime/activity/workflow_http_step.hpp"

#include "core/validation/message_quote.hpp"
#include "core/workflow/json.hpp"
#include "runtime/process/gucs.hpp"
#include "runtime/activity/workflow_sql_step.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <string>
#include <vector>

extern "C" {
#include "miscadmin.h"
}

namespace duroxide::runtime {

namespace {

using core::workflow::Json;
using core::workflow::JsonObject;

[[noreturn]] void refuse(const std::string& why) {
    throw WorkflowStepError("http step: " + why);
}

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

std::string trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) {
        s.remove_prefix(1);
    }
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) {
        s.remove_suffix(1);
    }
    return std::string(s);
}

struct UrlDeleter {
    void operator()(CURLU* u) const { curl_url_cleanup(u); }
};
struct EasyDeleter {
    void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
    void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
struct MimeDeleter {
    void operator()(curl_mime* m) const { curl_mime_free(m); }
};
struct CurlText {
    char* text = nullptr;
    ~CurlText() { curl_free(text); }
};

struct Target {
    std::string scheme, host, port;
};

// The scheme, host (lower case, IPv6 in brackets) and effective port of `url`, parsed by
// curl itself so that the host checked is the host connected to.
Target parse_target(const std::string& url) {
    std::unique_ptr<CURLU, UrlDeleter> u(curl_url());
    if (!u || curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) {
        refuse("bad URL " + core::quoted(url));
    }
    CurlText scheme, host, port;
    if (curl_url_get(u.get(), CURLUPART_SCHEME, &scheme.text, 0) != CURLUE_OK) {
        refuse("bad URL " + core::quoted(url) + " (no scheme)");
    }
    const std::string scheme_name = lower(scheme.text);
    if (scheme_name != "http" && scheme_name != "https") {
        refuse("only http and https URLs are allowed (got " + core::quoted(url) + ")");
    }
    if (curl_url_get(u.get(), CURLUPART_HOST, &host.text, 0) != CURLUE_OK ||
        curl_url_get(u.get(), CURLUPART_PORT, &port.text, CURLU_DEFAULT_PORT) != CURLUE_OK) {
        refuse("bad URL " + core::quoted(url) + " (a host is needed)");
    }
    return Target{.scheme = scheme_name, .host = lower(host.text), .port = port.text};
}

// Whether `t` is on duroxide.http_allowed_hosts: entries are "host" (any port) or
// "host:port" ("[v6]:port" for an IPv6 address).
void check_allowed(const Target& t, const std::string& url) {
    const std::string list = settings.http_allowed_hosts ? settings.http_allowed_hosts : "";
    bool any = false;
    std::size_t start = 0;
    while (start <= list.size()) {
        const std::size_t comma = std::min(list.find(',', start), list.size());
        const std::string entry = lower(trim(std::string_view(list).substr(start, comma - start)));
        start = comma + 1;
        if (entry.empty()) {
            continue;
        }
        any = true;
        std::string host = entry, port;
        const std::size_t colon = entry.rfind(':');
        const std::size_t bracket = entry.rfind(']');
        if (colon != std::string::npos && (bracket == std::string::npos || colon > bracket) &&
            (entry.front() == '[' || entry.find(':') == colon)) {
            host = entry.substr(0, colon);
            port = entry.substr(colon + 1);
        }
        if (host == t.host && (port.empty() || port == t.port)) {
            return;
        }
    }
    if (!any) {
        refuse("HTTP steps are off: duroxide.http_allowed_hosts is empty (a superuser lists "
               "the hosts workflows may call there)");
    }
    refuse("host " + core::quoted(t.host + ":" + t.port) + " of " + core::quoted(url) +
           " is not in duroxide.http_allowed_hosts");
}

bool valid_utf8_text(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        std::size_t extra;
        if (c == 0) {
            return false;
        } else if (c < 0x80) {
            extra = 0;
        } else if ((c & 0xE0) == 0xC0 && c >= 0xC2) {
            extra = 1;
        } else if ((c & 0xF0) == 0xE0) {
            extra = 2;
        } else if ((c & 0xF8) == 0xF0 && c <= 0xF4) {
            extra = 3;
        } else {
            return false;
        }
        if (extra > 0 && i + extra >= s.size()) {
            return false;
        }
        for (std::size_t k = 1; k <= extra; ++k) {
            if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) {
                return false;
            }
        }
        i += extra + 1;
    }
    return true;
}

struct Response {
    std::string body{};
    std::size_t limit = 0;
    bool too_large = false;
    JsonObject headers{};
};

size_t on_body(char* data, size_t size, size_t count, void* user) {
    auto* r = static_cast<Response*>(user);
    const size_t n = size * count;
    if (r->body.size() + n > r->limit) {
        r->too_large = true;
        return 0; // aborts the transfer
    }
    r->body.append(data, n);
    return n;
}

size_t on_header(char* data, size_t size, size_t count, void* user) {
    auto* r = static_cast<Response*>(user);
    const size_t n = size * count;
    const std::string_view line(data, n);
    if (line.starts_with("HTTP/")) {
        r->headers.clear(); // a new response (after 100 Continue): only the last one counts
        return n;
    }
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
        return n;
    }
    const std::string name = lower(trim(line.substr(0, colon)));
    const std::string value = trim(line.substr(colon + 1));
    if (!valid_utf8_text(name) || !valid_utf8_text(value)) {
        return n;
    }
    auto it = r->headers.find(name);
    if (it == r->headers.end()) {
        r->headers[name] = Json(value);
    } else {
        it->second = Json(it->second.as_string() + ", " + value);
    }
    return n;
}

// Aborts the transfer when the backend is asked to cancel or terminate.
int on_progress(void*, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    return (InterruptPending || QueryCancelPending || ProcDiePending) ? 1 : 0;
}

std::string text_field(const Json& call, const char* field) {
    const Json* v = call.find(field);
    if (v == nullptr || !v->is_string()) {
        refuse(std::string("the request's \"") + field + "\" must be a string");
    }
    return v->as_string();
}

// The request's headers (a line break in a value is refused) and body; a body that is not
// text is sent as JSON unless the headers name a Content-Type. An http_multipart request has
// a multipart/form-data body instead (multipart_body).
struct RequestParts {
    std::unique_ptr<curl_slist, SlistDeleter> headers;
    std::string body;
    bool has_body = false;
    std::unique_ptr<curl_mime, MimeDeleter> mime;
};

// The parts of an http_multipart request, copied into curl's mime structure: a text value as
// it is, any other JSON as its text typed application/json, a part with a filename as a file
// part (application/octet-stream unless it names its content_type).
std::unique_ptr<curl_mime, MimeDeleter> multipart_body(CURL* c, const Json& parts) {
    std::unique_ptr<curl_mime, MimeDeleter> mime(curl_mime_init(c));
    if (!mime || !parts.is_array()) {
        refuse("the request's \"parts\" could not be built");
    }
    for (const auto& p : parts.as_array()) {
        const Json* name = p.find("name");
        const Json* value = p.find("value");
        if (name == nullptr || !name->is_string() || value == nullptr) {
            refuse("a multipart part needs a name and a value");
        }
        const std::string data = value->is_string() ? value->as_string() : value->dump();
        curl_mimepart* part = curl_mime_addpart(mime.get());
        if (part == nullptr || curl_mime_name(part, name->as_string().c_str()) != CURLE_OK ||
            curl_mime_data(part, data.data(), data.size()) != CURLE_OK) {
            refuse("the multipart part " + core::quoted(name->as_string()) + " could not be built");
        }
        const Json* filename = p.find("filename");
        if (filename && filename->is_string()) {
            curl_mime_filename(part, filename->as_string().c_str());
        }
        std::string type;
        if (const Json* t = p.find("content_type"); t && t->is_string()) {
            type = t->as_string();
        } else if (filename && filename->is_string()) {
            type = "application/octet-stream";
        } else if (!value->is_string()) {
            type = "application/json";
        }
        if (type.find_first_of("\r\n") != std::string::npos) {
            refuse("the content type of part " + core::quoted(name->as_string()) +
                   " contains a line break");
        }
        if (!type.empty()) {
            curl_mime_type(part, type.c_str());
        }
    }
    return mime;
}

RequestParts request_parts(CURL* c, const Json& call) {
    RequestParts parts;
    bool typed = false;
    if (const Json* h = call.find("headers"); h && h->is_object()) {
        for (const auto& [name, value] : h->as_object()) {
            const std::string text = value.is_string() ? value.as_string() : value.dump();
            if (text.find_first_of("\r\n") != std::string::npos) {
                refuse("header " + core::quoted(name) + " contains a line break");
            }
            parts.headers.reset(
                curl_slist_append(parts.headers.release(), (name + ": " + text).c_str()));
            typed = typed || lower(name) == "content-type";
        }
    }
    if (const Json* p = call.find("parts"); p && !p->is_null()) {
        if (typed) {
            refuse("a multipart request sets its own Content-Type");
        }
        parts.mime = multipart_body(c, *p);
        return parts;
    }
    if (const Json* b = call.find("body"); b && !b->is_null()) {
        parts.has_body = true;
        parts.body = b->is_string() ? b->as_string() : b->dump();
        if (!b->is_string() && !typed) {
            parts.headers.reset(
                curl_slist_append(parts.headers.release(), "Content-Type: application/json"));
        }
    }
    return parts;
}

// Refuses a status outside the call's "expect" ranges.
void check_status(const Json& call, long status, const std::string& method,
                  const std::string& url) {
    bool expected = false;
    std::string expected_text;
    if (const Json* e = call.find("expect"); e && e->is_array()) {
        for (const auto& range : e->as_array()) {
            if (!range.is_array() || range.as_array().size() != 2) {
                continue;
            }
            const std::int64_t from = range.as_array()[0].as_int();
            const std::int64_t to = range.as_array()[1].as_int();
            expected = expected || (status >= from && status <= to);
            expected_text += (expected_text.empty() ? "" : ", ") + std::to_string(from) +
                             (from == to ? "" : "-" + std::to_string(to));
        }
    }
    if (!expected) {
        refuse(method + " " + core::quoted(url) + " returned status " + std::to_string(status) +
               ", expected " + (expected_text.empty() ? "none" : expected_text));
    }
}

// {"status", "headers", "body", "json"?}
std::string result_of(long status, Response& response) {
    JsonObject out;
    out["status"] = Json(static_cast<std::int64_t>(status));
    const auto type = response.headers.find("content-type");
    const bool is_json = type != response.headers.end() &&
                         lower(type->second.as_string()).find("json") != std::string::npos;
    out["headers"] = Json(std::move(response.headers));
    if (is_json) {
        try {
            out["json"] = Json::parse(response.body);
        } catch (const core::workflow::JsonError&) {
            // not JSON after all: the body alone
        }
    }
    out["body"] = Json(std::move(response.body));
    return Json(std::move(out)).dump();
}

} // namespace

std::string run_workflow_http_step(const core::work::ActivityExecute& item) {
    Json call;
    try {
        call = Json::parse(item.input);
    } catch (const core::workflow::JsonError& e) {
        refuse(std::string("bad request: ") + e.what());
    }
    const std::string method = text_field(call, "method");
    const std::string url = text_field(call, "url");
    // The allow-list first: a refused host is never connected to.
    check_allowed(parse_target(url), url);

    std::unique_ptr<CURL, EasyDeleter> curl(curl_easy_init());
    if (!curl) {
        refuse("libcurl could not start a request");
    }
    CURL* c = curl.get();
    Response response{.limit = static_cast<std::size_t>(settings.max_payload_kb) * 1024};
    std::int64_t timeout_ms = 30000;
    if (const Json* t = call.find("timeout_ms"); t && t->is_int() && t->as_int() > 0) {
        timeout_ms = t->as_int();
    }
    if (settings.activity_statement_timeout_ms > 0) {
        timeout_ms = std::min<std::int64_t>(timeout_ms, settings.activity_statement_timeout_ms);
    }
    const RequestParts parts = request_parts(c, call);

    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_PROXY, ""); // never through a proxy named in the environment
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_ms));
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
    if (method == "HEAD") {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    }
    if (parts.mime) {
        curl_easy_setopt(c, CURLOPT_MIMEPOST, parts.mime.get());
    } else if (parts.has_body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, parts.body.data());
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                         static_cast<curl_off_t>(parts.body.size()));
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, parts.headers.get());
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &response);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &response);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    char error[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);

    const CURLcode rc = curl_easy_perform(c);
    if (response.too_large) {
        refuse(method + " " + core::quoted(url) + ": the response is larger than " +
               "duroxide.max_payload_size (" + std::to_string(settings.max_payload_kb) + " kB)");
    }
    if (rc != CURLE_OK) {
        refuse(method + " " + core::quoted(url) +
               " failed: " + (error[0] ? std::string(error) : std::string(curl_easy_strerror(rc))));
    }
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    check_status(call, status, method, url);
    if (!valid_utf8_text(response.body)) {
        refuse(method + " " + core::quoted(url) + ": the response body is not UTF-8 text");
    }
    return result_of(status, response);
}

} // namespace duroxide::runtime
