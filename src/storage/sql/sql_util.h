// Internal to src/storage/sql: the statement helpers every SqlStore source file shares (one
// file per aggregate: sql_store.cc, and the files beside it). Not part of the storage seam.
#pragma once

#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "storage/sql/sql_store.h"

namespace dsched {
namespace sql_internal {

// Column readers that accept whatever numeric type the backend reports.
inline int64_t I(const soci::row& r, const std::string& name) {
  if (r.get_indicator(name) == soci::i_null) return 0;
  switch (r.get_properties(name).get_data_type()) {
    case soci::dt_integer:
      return r.get<int>(name);
    case soci::dt_long_long:
      return r.get<long long>(name);
    case soci::dt_unsigned_long_long:
      return static_cast<int64_t>(r.get<unsigned long long>(name));
    case soci::dt_double:
      return static_cast<int64_t>(r.get<double>(name));
    case soci::dt_string:
      return std::stoll(r.get<std::string>(name));
    default:
      return 0;
  }
}

inline std::string S(const soci::row& r, const std::string& name) {
  if (r.get_indicator(name) == soci::i_null) return "";
  switch (r.get_properties(name).get_data_type()) {
    case soci::dt_string:
      return r.get<std::string>(name);
    default:
      return std::to_string(I(r, name));
  }
}

// The same readers by column position, for the hot reads that select an explicit column list:
// reading by name looks each name up in the row's index (a tenth of the instance list page).
inline int64_t IAt(const soci::row& r, std::size_t pos) {
  if (r.get_indicator(pos) == soci::i_null) return 0;
  switch (r.get_properties(pos).get_data_type()) {
    case soci::dt_integer:
      return r.get<int>(pos);
    case soci::dt_long_long:
      return r.get<long long>(pos);
    case soci::dt_unsigned_long_long:
      return static_cast<int64_t>(r.get<unsigned long long>(pos));
    case soci::dt_double:
      return static_cast<int64_t>(r.get<double>(pos));
    case soci::dt_string:
      return std::stoll(r.get<std::string>(pos));
    default:
      return 0;
  }
}

inline std::string SAt(const soci::row& r, std::size_t pos) {
  if (r.get_indicator(pos) == soci::i_null) return "";
  if (r.get_properties(pos).get_data_type() == soci::dt_string) return r.get<std::string>(pos);
  return std::to_string(IAt(r, pos));
}

// The values of a statement's placeholders, in their order: what a kept statement (below)
// re-binds on each run.
class Binds {
 public:
  struct Value {
    bool is_str = false;
    long long i = 0;
    std::string s;
  };
  Binds& Int(long long v) {
    values_.push_back(Value{false, v, {}});
    return *this;
  }
  Binds& Str(std::string v) {
    values_.push_back(Value{true, 0, std::move(v)});
    return *this;
  }
  const std::vector<Value>& values() const { return values_; }

 private:
  std::vector<Value> values_;
};

// A statement run once. On PostgreSQL that is one PQexecParams round trip, where soci's default
// for a `statement` (prepare, execute, deallocate) would be three; the parameters are bound by
// the server either way, never spliced into the SQL. Values must outlive Run().
class Stmt {
 public:
  explicit Stmt(soci::session& sql) : st_(sql) {}
  template <typename T>
  void exchange(T&& element) {
    st_.exchange(std::forward<T>(element));
  }
  template <typename T>
  Stmt& Use(const T& v) {
    st_.exchange(soci::use(v));
    return *this;
  }
  template <typename T>
  Stmt& Into(T& v) {
    st_.exchange(soci::into(v));
    return *this;
  }
  template <typename T>
  Stmt& Into(T& v, soci::indicator& ind) {
    st_.exchange(soci::into(v, ind));
    return *this;
  }
  // Runs q (fetching the first row into the Into()s, if any); returns the rows affected.
  long long Run(const std::string& q) {
    Prepare(q);
    st_.execute(true);
    return st_.get_affected_rows();
  }
  // Runs q and calls each(row) for every row.
  template <typename F>
  void Rows(const std::string& q, F&& each) {
    soci::row r;
    st_.exchange(soci::into(r));
    Prepare(q);
    if (st_.execute(true)) {
      do {
        each(static_cast<const soci::row&>(r));
      } while (st_.fetch());
    }
  }

 private:
  void Prepare(const std::string& q) {
    st_.alloc();
    st_.prepare(q, soci::details::st_one_time_query);
    st_.define_and_bind();
  }
  soci::statement st_;
};

// The names of a column list "a, b, c".
inline std::vector<std::string> ColumnNames(const char* columns) {
  std::vector<std::string> out;
  std::string cols = columns;
  for (size_t i = 0; i < cols.size();) {
    size_t c = cols.find(',', i);
    std::string name = cols.substr(i, c == std::string::npos ? std::string::npos : c - i);
    name.erase(0, name.find_first_not_of(' '));
    out.push_back(name);
    i = c == std::string::npos ? cols.size() : c + 1;
  }
  return out;
}

// "a = :c0, b = :c1" for an UPDATE of the given column list. Named placeholders: PostgreSQL's
// and MySQL's soci backends understand only those (SQLite's '?' is not portable). `prefix`
// keeps the names apart when several clauses share one statement.
inline std::string SetClause(const char* columns, const std::string& prefix = ":c") {
  std::string out;
  int n = 0;
  for (const std::string& name : ColumnNames(columns))
    out += (out.empty() ? "" : ", ") + name + " = " + prefix + std::to_string(n++);
  return out;
}

inline std::string Placeholders(const char* columns) {
  std::string out = ":c0";
  int n = 1;
  for (const char* p = columns; *p; ++p)
    if (*p == ',') out += ", :c" + std::to_string(n++);
  return out;
}

// Runs an INSERT (its uses already bound by `bind`) and returns the new row's id: RETURNING on
// PostgreSQL, which has no "last id" of a connection; the driver's last id elsewhere (no extra
// round trip on MySQL).
template <typename Bind>
int64_t InsertReturningId(soci::session& sql, DbType type, const char* table,
                          const std::string& insert, Bind&& bind) {
  long long id = 0;
  Stmt st(sql);
  bind(st);
  if (type == DbType::kPostgres) {
    st.Into(id);
    st.Run(insert + " RETURNING id");
    return id;
  }
  st.Run(insert);
  if (!sql.get_last_insert_id(table, id)) {
    sql << (type == DbType::kMySql ? "SELECT LAST_INSERT_ID()" : "SELECT last_insert_rowid()"),
        soci::into(id);
  }
  return id;
}

// The AND of the filters a list page asked for. Only the active ones go into the SQL, so every
// database can use the index of the filter (a "(:x = 0 OR col = :x)" form defeats them all),
// and each value is a bound parameter. Values live in deques: soci keeps their addresses.
class Where {
 public:
  void Int(const std::string& clause, long long v) {
    values_.Int(v);
    ints_.push_back(v);
    Add(clause, [this, i = ints_.size() - 1](Stmt& st) { st.Use(ints_[i]); });
  }
  void Str(const std::string& clause, std::string v) {
    values_.Str(v);
    strs_.push_back(std::move(v));
    Add(clause, [this, i = strs_.size() - 1](Stmt& st) { st.Use(strs_[i]); });
  }
  // `column IN (...)` over vs, which must not be empty.
  void IntIn(const std::string& column, const std::vector<int64_t>& vs) {
    std::string clause = column + " IN (";
    size_t first = ints_.size();
    for (size_t k = 0; k < vs.size(); ++k) {
      values_.Int(vs[k]);
      ints_.push_back(vs[k]);
      clause += (k ? ", :in" : ":in") + std::to_string(first + k);
    }
    Add(clause + ")", [this, first, n = vs.size()](Stmt& st) {
      for (size_t k = 0; k < n; ++k) st.Use(ints_[first + k]);
    });
  }
  const std::string& sql() const { return sql_; }
  void Bind(Stmt& st) {
    for (auto& b : binds_) b(st);
  }
  // The same values, for a kept statement (StatementCache).
  const Binds& values() const { return values_; }

 private:
  void Add(const std::string& clause, std::function<void(Stmt&)> bind) {
    sql_ += (sql_.empty() ? " WHERE " : " AND ") + clause;
    binds_.push_back(std::move(bind));
  }
  std::string sql_;
  std::deque<long long> ints_;
  std::deque<std::string> strs_;
  std::vector<std::function<void(Stmt&)>> binds_;
  Binds values_;
};

// Case-insensitive "name contains" on every database (SQLite's LIKE already is, PostgreSQL's is
// not, MySQL's depends on the collation, ours is _bin), as DolphinScheduler on MySQL behaves.
constexpr const char* kNameLike = "LOWER(name) LIKE LOWER(:like)";

template <typename T, typename F, typename... Args>
std::vector<T> Query(soci::session& sql, const std::string& q, F from_row, const Args&... args) {
  std::vector<T> out;
  Stmt st(sql);
  (st.Use(args), ...);
  st.Rows(q, [&](const soci::row& r) { out.push_back(from_row(r)); });
  return out;
}

inline long long Count(soci::session& sql, const std::string& q, Where& w) {
  long long total = 0;
  Stmt st(sql);
  w.Bind(st);
  st.Into(total);
  st.Run(q + w.sql());
  return total;
}

// A write transaction on the writer connection (instead of soci::transaction). On SQLite it
// begins IMMEDIATE: a deferred transaction that reads first and writes later fails at once with
// "database is locked" when another connection to the file (another process) wrote in between,
// and no busy timeout helps it; IMMEDIATE takes the write lock first and waits for it.
class WriteTx {
 public:
  WriteTx(soci::session& sql, DbType type) : sql_(sql) {
    if (type == DbType::kSqlite)
      sql_ << "BEGIN IMMEDIATE";
    else
      sql_.begin();
  }
  ~WriteTx() {
    if (done_) return;
    try {
      sql_.rollback();
    } catch (const std::exception&) {
      // The connection is gone: so is the transaction.
    }
  }
  void commit() {
    sql_.commit();
    done_ = true;
  }
  WriteTx(const WriteTx&) = delete;
  WriteTx& operator=(const WriteTx&) = delete;

 private:
  soci::session& sql_;
  bool done_ = false;
};

// A row of t_ds_process_definition or of its _log table, without the DAG (sql_store.cc).
WorkflowDefinition DefinitionFromRow(const soci::row& r);

// The statements one SQLite connection keeps prepared, by SQL text. SQLite parses and plans in
// the caller's thread, and re-preparing the hot reads (the instance list page) on every call
// was a fifth of their cost. PostgreSQL and MySQL keep one-time statements (Stmt): one round
// trip either way, and a kept statement would dangle whenever Fail() re-opens its connection
// (which never happens on SQLite). Used only by the holder of the connection's lease: not
// thread-safe, and needs no lock.
class StatementCache {
 public:
  // Distinct SQL texts are few (one per filter combination of a list); the bound is a guard.
  static constexpr size_t kMaxStatements = 64;

  // Runs q with `binds` (the same number and kinds each time for the same q, as they are built
  // together) and calls each(row) for every row. Leaves no statement active, so the connection
  // holds no read transaction (which would pin an old snapshot) between calls. A statement
  // that failed is dropped, so the next call prepares it afresh.
  template <typename F>
  void Rows(soci::session& sql, const std::string& q, const Binds& binds, F&& each) {
    Entry& e = Get(sql, q, binds);
    try {
      if (e.st.execute(true)) {
        do {
          each(static_cast<const soci::row&>(e.row));
        } while (e.st.fetch());
      }
      Reset(e);
    } catch (...) {
      entries_.erase(q);
      throw;
    }
  }

 private:
  struct Entry {
    explicit Entry(soci::session& sql) : st(sql) {}
    std::vector<Binds::Value> values;  // bound by address: never resized after binding
    soci::row row;
    soci::statement st;  // last: destroyed before what it refers to
  };

  Entry& Get(soci::session& sql, const std::string& q, const Binds& binds) {
    const auto& in = binds.values();
    auto it = entries_.find(q);
    if (it != entries_.end()) {
      auto& kept = it->second->values;
      if (kept.size() != in.size()) throw std::logic_error("kept statement rebound differently");
      for (size_t i = 0; i < in.size(); ++i) {
        if (kept[i].is_str != in[i].is_str)
          throw std::logic_error("kept statement rebound differently");
        kept[i].i = in[i].i;
        kept[i].s = in[i].s;
      }
      return *it->second;
    }
    if (sql.get_backend_name() != "sqlite3")
      throw std::logic_error("statements are kept on SQLite connections only");
    if (entries_.size() >= kMaxStatements) entries_.clear();
    auto e = std::make_unique<Entry>(sql);
    e->values = in;
    for (auto& v : e->values) {
      if (v.is_str)
        e->st.exchange(soci::use(v.s));
      else
        e->st.exchange(soci::use(v.i));
    }
    e->st.exchange(soci::into(e->row));
    e->st.alloc();
    e->st.prepare(q, soci::details::st_repeatable_query);
    e->st.define_and_bind();
    return *entries_.emplace(q, std::move(e)).first->second;
  }

  // (soci's SQLite backend exports no type information to dynamic_cast with: Get() checked.)
  static void Reset(Entry& e) {
    auto* b = static_cast<soci::sqlite3_statement_backend*>(e.st.get_backend());
    if (b && b->stmt_) sqlite_api::sqlite3_reset(b->stmt_);
  }

  std::unordered_map<std::string, std::unique_ptr<Entry>> entries_;
};

}  // namespace sql_internal

// A reader connection borrowed from the pool for one call.
class SqlStore::ReaderLease {
 public:
  explicit ReaderLease(SqlStore& s) : s_(s) {
    std::unique_lock<std::mutex> l(s_.readers_mu_);
    s_.readers_cv_.wait(l, [&] { return !s_.readers_.empty(); });
    session_ = std::move(s_.readers_.back());
    s_.readers_.pop_back();
  }
  ~ReaderLease() {
    std::lock_guard<std::mutex> l(s_.readers_mu_);
    s_.readers_.push_back(std::move(session_));
    s_.readers_cv_.notify_one();
  }
  soci::session& operator*() { return *session_; }

  // Runs q with `binds` and calls each(row) for every row: through the connection's kept
  // statements on SQLite (sql_internal::StatementCache), as a one-time statement elsewhere.
  template <typename F>
  void Rows(const std::string& q, const sql_internal::Binds& binds, F&& each) {
    if (s_.opts_.type == DbType::kSqlite) {
      Statements().Rows(*session_, q, binds, std::forward<F>(each));
      return;
    }
    sql_internal::Stmt st(*session_);
    for (const auto& v : binds.values()) {
      if (v.is_str)
        st.Use(v.s);
      else
        st.Use(v.i);
    }
    st.Rows(q, std::forward<F>(each));
  }

 private:
  sql_internal::StatementCache& Statements() {
    std::lock_guard<std::mutex> l(s_.readers_mu_);
    auto& cache = s_.reader_statements_[session_.get()];
    if (!cache) cache = std::make_unique<sql_internal::StatementCache>();
    return *cache;
  }

  SqlStore& s_;
  std::unique_ptr<soci::session> session_;
};

}  // namespace dsched
