// duroxide-worker's options (src/worker/options.cpp, built into the unit tests: it needs only
// the core): the command line, a config file of "key = value" lines under it, and the errors.
#include "worker/options.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

using namespace duroxide::worker;

namespace {

Options parse(std::vector<std::string> args) {
    args.insert(args.begin(), "duroxide-worker");
    std::vector<const char*> argv;
    for (const auto& arg : args) {
        argv.push_back(arg.c_str());
    }
    return parse_options(static_cast<int>(argv.size()), argv.data());
}

std::string config_file(const std::string& text) {
    char name[] = "/tmp/duroxide-worker-options-XXXXXX";
    const int fd = mkstemp(name);
    EXPECT_GE(fd, 0);
    std::ofstream(name) << text;
    return name;
}

} // namespace

TEST(WorkerOptions, CommandLine) {
    const Options options =
        parse({"--connection", "dbname=app", "--worker-id=gpu1", "--tags", "tags:gpu", "--plugin",
               "/a.so", "--plugin", "/b.so", "--concurrency", "4", "--lock-timeout", "60000"});
    EXPECT_EQ(options.conninfo, "dbname=app");
    EXPECT_EQ(options.worker_id, "gpu1");
    EXPECT_EQ(options.tags, "tags:gpu");
    EXPECT_EQ(options.plugins, (std::vector<std::string>{"/a.so", "/b.so"}));
    EXPECT_EQ(options.concurrency, 4);
    EXPECT_EQ(options.lock_timeout_ms, 60000);
    EXPECT_EQ(options.batch, 1);
}

TEST(WorkerOptions, ConfigFileUnderTheCommandLine) {
    const std::string path =
        config_file("# a comment\n\nconnection = host=db dbname=app\nworker-id = w\n"
                    "tags = tags:a,b\nplugin = /x.so, /y.so\nconcurrency = 2\n");
    Options options = parse({"--config", path});
    EXPECT_EQ(options.conninfo, "host=db dbname=app");
    EXPECT_EQ(options.plugins, (std::vector<std::string>{"/x.so", "/y.so"}));
    EXPECT_EQ(options.concurrency, 2);
    options = parse({"--concurrency", "8", "--config", path, "--plugin", "/z.so"});
    EXPECT_EQ(options.concurrency, 8);
    EXPECT_EQ(options.plugins, (std::vector<std::string>{"/z.so"}));
    std::remove(path.c_str());
}

TEST(WorkerOptions, Errors) {
    const std::vector<std::string> base{"--worker-id", "w",        "--tags",
                                        "tags:a",      "--plugin", "/a.so"};
    auto with = [&base](std::vector<std::string> extra) {
        std::vector<std::string> args = base;
        args.insert(args.end(), extra.begin(), extra.end());
        return args;
    };
    EXPECT_THROW(parse(with({"--concurrency", "0"})), OptionsError);
    EXPECT_THROW(parse(with({"--concurrency", "2x"})), OptionsError);
    EXPECT_THROW(parse(with({"--colour", "red"})), OptionsError);
    EXPECT_THROW(parse(with({"--tags", "default"})), OptionsError); // untagged: in-server only
    EXPECT_THROW(parse(with({"--tags", "tags:a b"})), OptionsError);
    EXPECT_THROW(parse(with({"--config", "/nonexistent/worker.conf"})), OptionsError);
    EXPECT_THROW(parse({"--tags", "tags:a", "--plugin", "/a.so"}), OptionsError); // no id
    EXPECT_THROW(parse({"--worker-id", "w", "--tags", "tags:a"}), OptionsError);  // no plugin
    EXPECT_THROW(parse(with({"--lock-timeout"})), OptionsError);                  // no value
    EXPECT_TRUE(parse({"--help"}).help);
}
