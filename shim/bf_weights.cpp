// bf_weights: reading and writing the BFW1 weights format.
#include "bf_weights.hpp"

#include "bf_err.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "the BFW1 reader assumes a little-endian host");

namespace bfweights
{

namespace
{

constexpr uint32_t max_meta = 64 * 1024;
constexpr uint32_t max_name = 1024;
constexpr uint32_t max_count = 1000000;
constexpr int max_ndim = 8;

std::string shape_str(const std::vector<int64_t> &shape)
{
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); i++)
        s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
}

const char *dtype_name(int dtype)
{
    return dtype == 1 ? "float32" : dtype == 2 ? "int64" : "unknown";
}

int dtype_of(const at::Tensor &t)
{
    if (t.scalar_type() == at::kFloat)
        return 1;
    if (t.scalar_type() == at::kLong)
        return 2;
    return 0;
}

// A reader that knows the file size and reports truncation by offset.
struct Reader {
    const char *path;
    std::ifstream in;
    uint64_t size = 0;

    int open()
    {
        in.open(path, std::ios::binary);
        if (!in)
            return bf_err_set(BF_ENOENT, "cannot open weights '%s': %s", path,
                              strerror(errno));
        in.seekg(0, std::ios::end);
        size = static_cast<uint64_t>(in.tellg());
        in.seekg(0);
        return 0;
    }
    uint64_t pos()
    {
        return static_cast<uint64_t>(in.tellg());
    }
    int bytes(void *dst, uint64_t n, const char *what)
    {
        uint64_t at = pos();
        if (n > size - at)
            return bf_err_set(BF_EPARSE,
                              "%s: truncated at byte %llu reading %s (%llu "
                              "bytes needed, %llu left)",
                              path, static_cast<unsigned long long>(at), what,
                              static_cast<unsigned long long>(n),
                              static_cast<unsigned long long>(size - at));
        in.read(static_cast<char *>(dst), static_cast<std::streamsize>(n));
        if (!in)
            return bf_err_set(BF_EIO, "%s: read error at byte %llu", path,
                              static_cast<unsigned long long>(at));
        return 0;
    }
};

} // namespace

int write(const char *path, const std::string &meta, const State &state)
{
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out)
        return bf_err_set(BF_EIO, "cannot write weights '%s': %s", path,
                          strerror(errno));
    auto u32 = [&](uint32_t v) {
        out.write(reinterpret_cast<const char *>(&v), 4);
    };
    out.write("BFW1", 4);
    u32(static_cast<uint32_t>(meta.size()));
    out.write(meta.data(), static_cast<std::streamsize>(meta.size()));
    u32(static_cast<uint32_t>(state.size()));
    for (const auto &kv : state) {
        // A model on a GPU is written from a host copy.
        at::Tensor t = kv.second.detach().to(at::kCPU).contiguous();
        int dtype = dtype_of(t);
        if (!dtype)
            return bf_err_set(BF_EUNSUPPORTED, "%s: '%s' has dtype %s", path,
                              kv.first.c_str(), c10::toString(t.scalar_type()));
        u32(static_cast<uint32_t>(kv.first.size()));
        out.write(kv.first.data(),
                  static_cast<std::streamsize>(kv.first.size()));
        char head[2] = {static_cast<char>(dtype), static_cast<char>(t.dim())};
        out.write(head, 2);
        for (int64_t d : t.sizes())
            out.write(reinterpret_cast<const char *>(&d), 8);
        out.write(static_cast<const char *>(t.data_ptr()),
                  static_cast<std::streamsize>(t.nbytes()));
    }
    out.close();
    if (!out)
        return bf_err_set(BF_EIO, "error writing weights '%s': %s", path,
                          strerror(errno));
    return 0;
}

int read_index(const char *path, File *out)
{
    Reader r;
    r.path = path;
    int rc = r.open();
    if (rc)
        return rc;
    char magic[4];
    uint32_t meta_len = 0, count = 0;
    if ((rc = r.bytes(magic, 4, "the magic")))
        return rc;
    if (std::memcmp(magic, "BFW1", 4) != 0)
        return bf_err_set(BF_EPARSE,
                          "%s: not a bfbench weights file (magic is not "
                          "'BFW1'; export torchvision weights with "
                          "scripts/export_torchvision.py)",
                          path);
    if ((rc = r.bytes(&meta_len, 4, "the header length")))
        return rc;
    if (meta_len > max_meta)
        return bf_err_set(BF_EPARSE, "%s: header of %u bytes (limit %u)", path,
                          meta_len, max_meta);
    std::string meta(meta_len, '\0');
    if ((rc = r.bytes(&meta[0], meta_len, "the header")))
        return rc;
    File file;
    size_t start = 0;
    while (start < meta.size()) {
        size_t end = meta.find('\n', start);
        if (end == std::string::npos)
            end = meta.size();
        std::string line = meta.substr(start, end - start);
        size_t eq = line.find('=');
        if (eq != std::string::npos)
            file.meta[line.substr(0, eq)] = line.substr(eq + 1);
        start = end + 1;
    }
    if ((rc = r.bytes(&count, 4, "the entry count")))
        return rc;
    if (count > max_count)
        return bf_err_set(BF_EPARSE, "%s: %u entries (limit %u)", path, count,
                          max_count);
    std::set<std::string> seen;
    for (uint32_t i = 0; i < count; i++) {
        Entry e;
        uint32_t name_len = 0;
        uint8_t head[2];
        std::string what = "entry " + std::to_string(i);
        if ((rc = r.bytes(&name_len, 4, what.c_str())))
            return rc;
        if (name_len == 0 || name_len > max_name)
            return bf_err_set(BF_EPARSE, "%s: entry %u has a name of %u bytes",
                              path, i, name_len);
        e.name.resize(name_len);
        if ((rc = r.bytes(&e.name[0], name_len, what.c_str())))
            return rc;
        what = "entry '" + e.name + "'";
        if ((rc = r.bytes(head, 2, what.c_str())))
            return rc;
        e.dtype = head[0];
        if (e.dtype != 1 && e.dtype != 2)
            return bf_err_set(BF_EPARSE, "%s: %s has unknown dtype code %d",
                              path, what.c_str(), e.dtype);
        if (head[1] > max_ndim)
            return bf_err_set(BF_EPARSE, "%s: %s has rank %d (limit %d)", path,
                              what.c_str(), head[1], max_ndim);
        e.shape.resize(head[1]);
        uint64_t numel = 1;
        for (auto &d : e.shape) {
            if ((rc = r.bytes(&d, 8, what.c_str())))
                return rc;
            if (d < 0 || d > (int64_t(1) << 40))
                return bf_err_set(BF_EPARSE, "%s: %s has dimension %lld", path,
                                  what.c_str(), static_cast<long long>(d));
            numel *= static_cast<uint64_t>(d);
            if (numel > (uint64_t(1) << 40))
                return bf_err_set(BF_EPARSE, "%s: %s is too large", path,
                                  what.c_str());
        }
        e.nbytes = numel * 4 * static_cast<uint64_t>(e.dtype);
        e.offset = r.pos();
        if (e.nbytes > r.size - e.offset)
            return bf_err_set(BF_EPARSE,
                              "%s: truncated: %s needs %llu bytes at offset "
                              "%llu, the file has %llu",
                              path, what.c_str(),
                              static_cast<unsigned long long>(e.nbytes),
                              static_cast<unsigned long long>(e.offset),
                              static_cast<unsigned long long>(r.size));
        if (!seen.insert(e.name).second)
            return bf_err_set(BF_EPARSE, "%s: duplicate entry '%s'", path,
                              e.name.c_str());
        r.in.seekg(static_cast<std::streamoff>(e.offset + e.nbytes));
        file.entries.push_back(std::move(e));
    }
    if (r.pos() != r.size)
        return bf_err_set(BF_EPARSE,
                          "%s: %llu unexpected bytes after the last "
                          "entry",
                          path,
                          static_cast<unsigned long long>(r.size - r.pos()));
    *out = std::move(file);
    return 0;
}

static int read_data(std::ifstream &in, const char *path, const Entry &e,
                     at::Tensor *out)
{
    at::Tensor t = at::empty(e.shape, e.dtype == 1 ? at::kFloat : at::kLong);
    in.seekg(static_cast<std::streamoff>(e.offset));
    in.read(static_cast<char *>(t.data_ptr()),
            static_cast<std::streamsize>(e.nbytes));
    if (!in)
        return bf_err_set(BF_EIO, "%s: read error in entry '%s'", path,
                          e.name.c_str());
    *out = t;
    return 0;
}

int load_into(const char *path, const File &file, const State &state)
{
    std::map<std::string, const Entry *> by_name;
    for (const Entry &e : file.entries)
        by_name[e.name] = &e;

    // Check everything before touching the model.
    std::string missing, unexpected;
    int n_missing = 0, n_unexpected = 0;
    std::set<std::string> wanted;
    for (const auto &kv : state) {
        wanted.insert(kv.first);
        auto it = by_name.find(kv.first);
        if (it == by_name.end()) {
            if (n_missing++ == 0)
                missing = kv.first;
            continue;
        }
        const Entry &e = *it->second;
        std::vector<int64_t> want(kv.second.sizes().begin(),
                                  kv.second.sizes().end());
        if (e.shape != want)
            return bf_err_set(BF_ESHAPE,
                              "%s: parameter '%s' has shape %s in the file, "
                              "the model expects %s",
                              path, e.name.c_str(), shape_str(e.shape).c_str(),
                              shape_str(want).c_str());
        if (e.dtype != dtype_of(kv.second))
            return bf_err_set(BF_EPARSE,
                              "%s: parameter '%s' is %s in the file, the "
                              "model expects %s",
                              path, e.name.c_str(), dtype_name(e.dtype),
                              dtype_name(dtype_of(kv.second)));
    }
    for (const Entry &e : file.entries)
        if (!wanted.count(e.name) && n_unexpected++ == 0)
            unexpected = e.name;
    if (n_missing)
        return bf_err_set(BF_EPARSE,
                          "%s: missing parameter '%s' (%d missing in all)",
                          path, missing.c_str(), n_missing);
    if (n_unexpected)
        return bf_err_set(BF_EPARSE,
                          "%s: unexpected parameter '%s' (%d unexpected in "
                          "all)",
                          path, unexpected.c_str(), n_unexpected);

    std::ifstream in(path, std::ios::binary);
    if (!in)
        return bf_err_set(BF_ENOENT, "cannot open weights '%s': %s", path,
                          strerror(errno));
    at::NoGradGuard no_grad;
    for (const auto &kv : state) {
        at::Tensor t;
        int rc = read_data(in, path, *by_name[kv.first], &t);
        if (rc)
            return rc;
        at::Tensor dst = kv.second;
        dst.copy_(t);
    }
    return 0;
}

int read_one(const char *path, const char *name, at::Tensor *out)
{
    File file;
    int rc = read_index(path, &file);
    if (rc)
        return rc;
    for (const Entry &e : file.entries) {
        if (e.name != name)
            continue;
        std::ifstream in(path, std::ios::binary);
        if (!in)
            return bf_err_set(BF_ENOENT, "cannot open '%s': %s", path,
                              strerror(errno));
        return read_data(in, path, e, out);
    }
    return bf_err_set(BF_ENOENT, "%s: no entry '%s'", path, name);
}

} // namespace bfweights
