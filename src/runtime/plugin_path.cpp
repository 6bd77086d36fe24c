#include "runtime/plugin_path.hpp"

#include "core/validation/identifiers.hpp"
#include "core/validation/message_quote.hpp"
#include "pg/guard.hpp"

#include <sys/stat.h>

namespace duroxide::runtime {

void validate_plugin_name(std::string_view name) {
    if (auto problem = core::plugin_name_problem(name)) {
        throw pg::SqlError(ERRCODE_INVALID_PARAMETER_VALUE,
                           "invalid plugin name " + core::quoted(name) + ": " + *problem,
                           "A plugin is named by its library's file name without directory or "
                           "\".so\".",
                           "Put the library in $libdir or in a directory listed in "
                           "duroxide.plugin_directories.");
    }
}

std::vector<std::string> plugin_directories(std::string_view setting) {
    std::vector<std::string> directories{"$libdir"};
    size_t start = 0;
    while (start <= setting.size()) {
        size_t end = setting.find(',', start);
        if (end == std::string_view::npos) {
            end = setting.size();
        }
        std::string_view item = setting.substr(start, end - start);
        while (!item.empty() && item.front() == ' ') {
            item.remove_prefix(1);
        }
        while (!item.empty() && item.back() == ' ') {
            item.remove_suffix(1);
        }
        if (!item.empty() && item != "$libdir") {
            if (item.front() != '/') {
                throw pg::SqlError(ERRCODE_INVALID_PARAMETER_VALUE,
                                   "duroxide.plugin_directories entries must be absolute paths",
                                   "\"" + std::string(item) + "\" is relative.");
            }
            directories.emplace_back(item);
        }
        start = end + 1;
    }
    return directories;
}

std::string resolve_plugin_path(std::string_view name,
                                const std::vector<std::string>& directories) {
    validate_plugin_name(name);
    for (const auto& directory : directories) {
        const std::string base = directory == "$libdir" ? std::string(pkglib_path) : directory;
        std::string candidate = base + "/" + std::string(name) + ".so";
        struct stat info {};
        if (stat(candidate.c_str(), &info) == 0 && S_ISREG(info.st_mode)) {
            return candidate;
        }
    }
    std::string searched;
    for (const auto& directory : directories) {
        searched += (searched.empty() ? "" : ", ") +
                    (directory == "$libdir" ? std::string(pkglib_path) : directory);
    }
    throw pg::SqlError(ERRCODE_UNDEFINED_FILE, "plugin \"" + std::string(name) + "\" not found",
                       "Looked for " + std::string(name) + ".so in: " + searched + ".",
                       "Install the plugin with its Makefile (make install) or add its directory "
                       "to duroxide.plugin_directories.");
}

} // namespace duroxide::runtime
