#include "runtime/plugins/plugin_path.hpp"

#include "core/validation/identifiers.hpp"
#include "core/validation/message_quote.hpp"
#include "pg/guard.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <utility>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

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

namespace {

[[noreturn]] void refuse(std::string_view name, const std::string& path, const std::string& why) {
    throw pg::SqlError(ERRCODE_INSUFFICIENT_PRIVILEGE,
                       "plugin \"" + std::string(name) + "\" is not loaded: " + why,
                       "Library: " + path + ".",
                       "Install plugins as root or as the server's user, in a directory listed "
                       "in duroxide.plugin_directories (or $libdir) that only they can write, "
                       "without links pointing outside it.");
}

// Owned by root or the server's user, and writable by no one else.
std::string unsafe_because(const struct stat& info) {
    if (info.st_uid != 0 && info.st_uid != geteuid()) {
        return "owned by uid " + std::to_string(info.st_uid) +
               ", neither root nor the server's user";
    }
    if ((info.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
        return "writable by its group or by others";
    }
    return {};
}

std::string real_path(const std::string& path) {
    char* resolved = realpath(path.c_str(), nullptr);
    if (resolved == nullptr) {
        return {};
    }
    std::string result(resolved);
    std::free(resolved);
    return result;
}

} // namespace

PluginFile::PluginFile(PluginFile&& other) noexcept
    : path_(std::move(other.path_)), fd_(std::exchange(other.fd_, -1)) {}

PluginFile::~PluginFile() {
    if (fd_ >= 0) {
        close(fd_);
    }
}

std::string PluginFile::descriptor_path() const {
    return "/proc/self/fd/" + std::to_string(fd_);
}

PluginFile open_plugin_file(std::string_view name, const std::vector<std::string>& directories) {
    validate_plugin_name(name);
    const std::string file_name = std::string(name) + ".so";
    for (const auto& directory : directories) {
        const std::string listed = directory == "$libdir" ? std::string(pkglib_path) : directory;
        const std::string base = real_path(listed);
        const std::string candidate = listed + "/" + file_name;
        struct stat link_info {};
        if (base.empty() || lstat(candidate.c_str(), &link_info) != 0) {
            continue;
        }
        const std::string resolved = real_path(candidate);
        if (resolved.empty() || resolved.compare(0, base.size() + 1, base + "/") != 0) {
            refuse(name, candidate,
                   "it resolves outside " + listed +
                       (resolved.empty() ? "" : " (to " + resolved + ")"));
        }
        // Every directory from the allowed one down to the file's.
        for (std::string dir = resolved.substr(0, resolved.rfind('/'));;
             dir = dir.substr(0, dir.rfind('/'))) {
            struct stat dir_info {};
            if (stat(dir.c_str(), &dir_info) != 0) {
                refuse(name, resolved, "its directory " + dir + " cannot be examined");
            }
            if (const std::string why = unsafe_because(dir_info); !why.empty()) {
                refuse(name, resolved, "its directory " + dir + " is " + why);
            }
            if (dir.size() <= base.size()) {
                break;
            }
        }
        // Opened once (not following a link swapped in since): the checks below and the
        // loader see this very file.
        const int fd = open(resolved.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
            refuse(name, resolved, std::string("it cannot be opened: ") + std::strerror(errno));
        }
        PluginFile file(resolved, fd);
        struct stat info {};
        if (fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
            refuse(name, resolved, "it is not a regular file");
        }
        if (const std::string why = unsafe_because(info); !why.empty()) {
            refuse(name, resolved, "the library is " + why);
        }
        return file;
    }
    std::string searched;
    for (const auto& directory : directories) {
        searched += (searched.empty() ? "" : ", ") +
                    (directory == "$libdir" ? std::string(pkglib_path) : directory);
    }
    throw pg::SqlError(ERRCODE_UNDEFINED_FILE, "plugin \"" + std::string(name) + "\" not found",
                       "Looked for " + file_name + " in: " + searched + ".",
                       "Install the plugin with its Makefile (make install) or add its directory "
                       "to duroxide.plugin_directories.");
}

} // namespace duroxide::runtime
