// bf_weights: the project's weights file format "BFW1" (internal C++).
//
// Layout, all integers little-endian:
//   "BFW1"                 4 bytes magic
//   u32 meta_len, meta     "key=value\n" lines (arch, num_classes, source)
//   u32 count
//   count entries of:
//     u32 name_len, name   torchvision state-dict key, UTF-8, no NUL
//     u8 dtype             1 = float32, 2 = int64
//     u8 ndim              0..8
//     i64 dims[ndim]
//     data                 product(dims) * element size bytes, row-major
// Written by bf_model_save and by scripts/export_torchvision.py; described
// for users in shim/bf_weights.md.
#ifndef BF_WEIGHTS_HPP
#define BF_WEIGHTS_HPP

#include <ATen/ATen.h>

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace bfweights
{

struct Entry {
    std::string name;
    int dtype; // 1 float32, 2 int64
    std::vector<int64_t> shape;
    uint64_t offset; // of the data in the file
    uint64_t nbytes;
};

struct File {
    std::map<std::string, std::string> meta;
    std::vector<Entry> entries;
};

using State = std::vector<std::pair<std::string, at::Tensor>>;

// Write state with meta text (already "key=value\n" lines) to path.
int write(const char *path, const std::string &meta, const State &state);

// Read and check the header and entry table of path (no tensor data).
int read_index(const char *path, File *out);

// Check file against state (names, shapes, dtypes: all-or-nothing), then
// copy every entry's data into the matching tensor.
int load_into(const char *path, const File &file, const State &state);

// Read the one entry called name into a new tensor.
int read_one(const char *path, const char *name, at::Tensor *out);

} // namespace bfweights

#endif // BF_WEIGHTS_HPP
