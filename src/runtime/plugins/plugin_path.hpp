// Where plugin libraries may come from. Loading a plugin runs arbitrary code in the server, so
// a plugin is named, never given as a path: the name is checked for path tricks and the library
// is looked for only in $libdir and the directories an administrator listed in
// duroxide.plugin_directories. The library found is resolved (symbolic links followed) and must
// lie inside the directory it was found in (also resolved); that file and every directory from
// the allowed one down to it must belong to root or to the server's user and be writable by
// no one else. The file is opened once, checked on the open descriptor, and loaded through that
// descriptor, so the file checked is the file loaded.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace duroxide::runtime {

// Throws pg::SqlError (invalid_parameter_value) unless `name` passes
// core::plugin_name_problem.
void validate_plugin_name(std::string_view name);

// An open plugin library (closed with the object).
class PluginFile {
public:
    PluginFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
    PluginFile(PluginFile&& other) noexcept;
    PluginFile& operator=(PluginFile&&) = delete;
    PluginFile(const PluginFile&) = delete;
    ~PluginFile();

    const std::string& path() const noexcept { return path_; } // resolved, absolute
    int fd() const noexcept { return fd_; }
    // A path that names exactly this open file (for dlopen).
    std::string descriptor_path() const;
    // Leaves the descriptor open for the life of the process: the dynamic loader knows a
    // library by the name it was loaded with, and /proc/self/fd/<n> must never name another
    // file while the library loaded through it stays loaded.
    void keep_open() noexcept { fd_ = -1; }

private:
    std::string path_;
    int fd_ = -1;
};

// Finds and opens plugin `name`: the first `<dir>/<name>.so` that exists, searching
// `directories` in order ("$libdir" stands for PostgreSQL's package library directory), checked
// as described above. Throws pg::SqlError: undefined_file when there is none,
// insufficient_privilege when it resolves outside its directory or is writable by others.
PluginFile open_plugin_file(std::string_view name, const std::vector<std::string>& directories);

// Splits the duroxide.plugin_directories setting: "$libdir" first unless listed, then the
// absolute directories listed (relative ones are rejected with invalid_parameter_value).
std::vector<std::string> plugin_directories(std::string_view setting);

} // namespace duroxide::runtime
