#pragma once

// The SQLite database behind the runtime's durable state (tasks, files, sessions, chats): one
// connection, RAII statements, and the versioned schema. Any thread may use it while holding
// its lock; statements are cached per SQL text.
//
//   auto lock = db.lock();
//   auto& insert = db.statement("INSERT INTO files (id) VALUES (?1)");
//   insert.bind(1, id).run();

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

struct sqlite3;
struct sqlite3_stmt;

namespace infsh::local {

/// A prepared statement. Bind parameters (1-based), then step() through rows or run() it.
class Statement {
 public:
  Statement(sqlite3* db, std::string_view sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int index, std::string_view text);
  Statement& bind(int index, std::int64_t value);
  Statement& bind_null(int index);

  /// Advances to the next row; false when there is none (the statement is then reset).
  /// Throws std::runtime_error with SQLite's message on failure.
  bool step();
  /// Runs a statement that returns no rows, then resets it.
  void run();
  /// Resets the statement and clears its bindings (done by step() at the end too).
  void reset() noexcept;

  std::string text(int column) const;  ///< 0-based column; empty for NULL
  std::int64_t integer(int column) const;
  bool is_null(int column) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* statement_ = nullptr;
};

/// The current schema version (PRAGMA user_version). Version 1: tasks, files, sessions;
/// version 2 adds agents, chats, chat_messages and tool_invocations.
inline constexpr int kSchemaVersion = 2;

class Database {
 public:
  /// Opens or creates the database at `path` (":memory:": one held in memory), in WAL mode with
  /// synchronous=NORMAL (a commit survives a crash of the process, not a power loss), and
  /// brings the schema up to date. Throws std::runtime_error naming the path and the reason,
  /// also for a schema newer than this program knows.
  ///
  /// Checkpoints (copying the WAL into the database, with its fsyncs) run on a thread and a
  /// connection of their own once the WAL holds kCheckpointPages, never inside a commit: a
  /// commit costs a write to the WAL, so whoever waits for one (an answer, the event loop)
  /// never waits for a disk flush.
  explicit Database(const std::string& path);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  /// The lock every use of the database must hold.
  std::unique_lock<std::mutex> lock() const { return std::unique_lock(mutex_); }

  /// Runs SQL without results (several statements allowed). Lock held by the caller.
  void exec(std::string_view sql);
  /// The cached, reset statement for `sql`. Lock held by the caller while it is used.
  Statement& statement(const std::string& sql);

  const std::string& path() const noexcept { return path_; }

  /// WAL pages after which a checkpoint is started (SQLite's own default threshold).
  static constexpr int kCheckpointPages = 1000;

 private:
  void migrate();
  void start_checkpointer();
  void stop_checkpointer() noexcept;
  static int on_wal_commit(void* self, sqlite3* db, const char* name, int pages);

  std::string path_;
  sqlite3* db_ = nullptr;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::unique_ptr<Statement>> statements_;

  struct Checkpointer;
  std::unique_ptr<Checkpointer> checkpointer_;
};

/// BEGIN IMMEDIATE on construction, ROLLBACK on destruction unless commit() ran. Lock held by
/// the caller.
class Transaction {
 public:
  explicit Transaction(Database& db);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit();

 private:
  Database& db_;
  bool done_ = false;
};

}  // namespace infsh::local
