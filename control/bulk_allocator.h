// An allocator for the control plane's big containers (the RIB's prefix
// maps, the largest per-path prefix sets, the staging of a full-table load):
// blocks of 4 MiB and more come straight from mmap, 2 MiB-aligned and marked
// MADV_HUGEPAGE, so the kernel backs them with transparent huge pages.
//
// Why: loading the full table touches ~200 MB of fresh memory in a burst.
// With 4 KiB pages that was ~110k page faults, a quarter of the load time
// on this VM (each fault goes through the hypervisor); with 2 MiB pages the
// bulk blocks take a few hundred. The price is rounding each block up to
// 2 MiB (~6 MB over the full table's RIB). Smaller blocks use the ordinary
// heap. With THP set to "never" this is plain mmap, as fast as before.
#pragma once

#include <sys/mman.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>

namespace edgefwd::control {

namespace bulk_internal {

inline constexpr size_t kHugePage = size_t{2} << 20;
#if defined(__SANITIZE_ADDRESS__)
// Under AddressSanitizer everything stays on the (instrumented) heap, so
// overflows of the big containers are still caught.
inline constexpr size_t kMinBulkBytes = ~size_t{0};
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr size_t kMinBulkBytes = ~size_t{0};
#else
inline constexpr size_t kMinBulkBytes = size_t{4} << 20;
#endif
#else
inline constexpr size_t kMinBulkBytes = size_t{4} << 20;
#endif

// Bytes mapped for bulk blocks now (the heap's statistics do not see them).
inline std::atomic<size_t> mapped_now{0};

inline size_t MappedBytes(size_t bytes) {
  return (bytes + kHugePage - 1) & ~(kHugePage - 1);
}

inline void* MapBulk(size_t bytes) {
  const size_t size = MappedBytes(bytes);
  // Over-map by one huge page and trim, so the block starts on a 2 MiB
  // boundary (huge pages need that).
  void* raw = ::mmap(nullptr, size + kHugePage, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (raw == MAP_FAILED) {
    // What operator new does when memory runs out, without exceptions.
    std::fprintf(stderr, "edgefwd: out of memory (mmap of %zu bytes)\n", size);
    std::abort();
  }
  const auto start = reinterpret_cast<uintptr_t>(raw);
  const uintptr_t aligned = (start + kHugePage - 1) & ~(uintptr_t{kHugePage} - 1);
  if (aligned > start) ::munmap(raw, aligned - start);
  const uintptr_t tail = start + size + kHugePage - (aligned + size);
  if (tail > 0) ::munmap(reinterpret_cast<void*>(aligned + size), tail);
  ::madvise(reinterpret_cast<void*>(aligned), size, MADV_HUGEPAGE);  // a hint: failure is fine
  mapped_now.fetch_add(size, std::memory_order_relaxed);
  return reinterpret_cast<void*>(aligned);
}

inline void UnmapBulk(void* p, size_t bytes) {
  ::munmap(p, MappedBytes(bytes));
  mapped_now.fetch_sub(MappedBytes(bytes), std::memory_order_relaxed);
}

}  // namespace bulk_internal

// Bytes the bulk allocator holds now, over all containers.
inline size_t BulkBytesInUse() {
  return bulk_internal::mapped_now.load(std::memory_order_relaxed);
}

template <class T>
struct BulkAllocator {
  using value_type = T;

  BulkAllocator() = default;
  template <class U>
  BulkAllocator(const BulkAllocator<U>&) {}  // NOLINT: rebinding is implicit

  T* allocate(size_t n) {
    const size_t bytes = n * sizeof(T);
    if (bytes < bulk_internal::kMinBulkBytes) return std::allocator<T>().allocate(n);
    return static_cast<T*>(bulk_internal::MapBulk(bytes));
  }
  void deallocate(T* p, size_t n) {
    const size_t bytes = n * sizeof(T);
    if (bytes < bulk_internal::kMinBulkBytes) {
      std::allocator<T>().deallocate(p, n);
    } else {
      bulk_internal::UnmapBulk(p, bytes);
    }
  }
  template <class U>
  bool operator==(const BulkAllocator<U>&) const {
    return true;
  }
};

}  // namespace edgefwd::control
