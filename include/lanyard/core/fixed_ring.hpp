/// @file
/// fixed_ring<T>: a first-in first-out queue of at most `capacity` values in one block reserved
/// once, for code built without exceptions (firmware): reserve() reports a failed allocation
/// instead of throwing, push_back() reports a full ring instead of growing, and nothing else
/// allocates but grow(), which the caller asks for explicitly. It replaces std::deque where a
/// queue's room is configuration (nghttp2 and ngtcp2 keep such queues in fixed rings too).
///
/// @code
///   core::fixed_ring<event> q;
///   if (!q.reserve(settings.max_events)) return not_enough_memory;
///   if (!q.push_back(std::move(e))) ...;   // full: the caller's policy (refuse, back off)
///   while (!q.empty()) { use(q.front()); q.pop_front(); }
/// @endcode
///
/// Errors: none (booleans). Never throws if T's move constructor and destructor do not.
/// Thread-safety: distinct objects are safe, shared objects are unsafe.
#pragma once

#include <cstddef>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

namespace lanyard::core {

template <class T>
class fixed_ring {
public:
  fixed_ring() noexcept = default;
  ~fixed_ring() { release(); }
  fixed_ring(const fixed_ring&) = delete;
  fixed_ring& operator=(const fixed_ring&) = delete;
  fixed_ring(fixed_ring&& o) noexcept
      : data_(std::exchange(o.data_, nullptr)), capacity_(std::exchange(o.capacity_, 0)),
        head_(std::exchange(o.head_, 0)), size_(std::exchange(o.size_, 0)) {}
  fixed_ring& operator=(fixed_ring&& o) noexcept {
    if (this != &o) {
      release();
      data_ = std::exchange(o.data_, nullptr);
      capacity_ = std::exchange(o.capacity_, 0);
      head_ = std::exchange(o.head_, 0);
      size_ = std::exchange(o.size_, 0);
    }
    return *this;
  }

  /// Reserves room for `capacity` values (at least 1), dropping what the ring held and its
  /// old room. False if the allocation failed: the ring then has no room (capacity() 0).
  bool reserve(std::size_t capacity) noexcept {
    release();
    if (capacity == 0) capacity = 1;
    if (capacity > static_cast<std::size_t>(-1) / sizeof(T)) return false;
    void* p = nullptr;
    if constexpr (alignof(T) > __STDCPP_DEFAULT_NEW_ALIGNMENT__)
      p = ::operator new(capacity * sizeof(T), std::align_val_t(alignof(T)), std::nothrow);
    else
      p = ::operator new(capacity * sizeof(T), std::nothrow);
    if (p == nullptr) return false;
    data_ = static_cast<T*>(p);
    capacity_ = capacity;
    return true;
  }

  /// Moves what the ring holds, in order, into new room for `capacity` values (more than it
  /// holds). False if the allocation failed: the ring is then as it was. For a queue whose
  /// room is reserved at start but must not drop what it is given (a burst beyond it).
  bool grow(std::size_t capacity) noexcept {
    static_assert(std::is_nothrow_move_constructible_v<T>, "grow() moves the values");
    if (capacity <= size_) return false;
    fixed_ring bigger;
    if (!bigger.reserve(capacity)) return false;
    while (!empty()) {
      (void)bigger.push_back(std::move(front()));
      pop_front();
    }
    *this = std::move(bigger);
    return true;
  }

  std::size_t capacity() const noexcept { return capacity_; }
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  bool full() const noexcept { return size_ == capacity_; }

  /// Appends `v`; false (and `v` untouched) when the ring is full.
  bool push_back(T&& v) noexcept(std::is_nothrow_move_constructible_v<T>) {
    if (full()) return false;
    std::construct_at(data_ + index(size_), std::move(v));
    ++size_;
    return true;
  }
  bool push_back(const T& v) noexcept(std::is_nothrow_copy_constructible_v<T>) {
    if (full()) return false;
    std::construct_at(data_ + index(size_), v);
    ++size_;
    return true;
  }

  /// The oldest value. Precondition: !empty().
  T& front() noexcept { return data_[head_]; }
  const T& front() const noexcept { return data_[head_]; }
  /// The `i`-th oldest value (0 is front()). Precondition: i < size().
  T& operator[](std::size_t i) noexcept { return data_[index(i)]; }
  const T& operator[](std::size_t i) const noexcept { return data_[index(i)]; }

  /// Removes the oldest value. Precondition: !empty().
  void pop_front() noexcept {
    std::destroy_at(data_ + head_);
    head_ = index(1);
    --size_;
  }
  /// Removes every value; keeps the room.
  void clear() noexcept {
    while (!empty())
      pop_front();
    head_ = 0;
  }

private:
  std::size_t index(std::size_t i) const noexcept {
    const std::size_t k = head_ + i;
    return k >= capacity_ ? k - capacity_ : k;
  }
  void release() noexcept {
    clear();
    if (data_ == nullptr) return;
    if constexpr (alignof(T) > __STDCPP_DEFAULT_NEW_ALIGNMENT__)
      ::operator delete(data_, std::align_val_t(alignof(T)));
    else
      ::operator delete(data_);
    data_ = nullptr;
    capacity_ = 0;
  }

  T* data_ = nullptr;
  std::size_t capacity_ = 0;
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

} // namespace lanyard::core
