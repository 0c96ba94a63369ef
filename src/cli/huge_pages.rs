//! The process's allocator: the system allocator, asking Linux to back large blocks with
//! transparent huge pages.
//!
//! Fitting and labelling a large matrix allocate a few big buffers (the matrix, its row-major
//! copy, the pattern keys, the sparse votes, the label columns) and touch each page once: with
//! 4 KiB pages, faulting them in was a quarter of a profile of `fit` on a 1M x 50 matrix (the
//! kernel zeroing each new page at about 2.7 GB/s on the development machine). On hosts
//! where transparent huge pages are enabled only on request (`madvise`, a common default) the
//! kernel backs a range with 2 MiB pages once asked; elsewhere the request changes nothing.
//! Small blocks are left alone, so memory use barely changes.

use std::alloc::{GlobalAlloc, Layout, System};

/// The system allocator plus the huge-page request for blocks of at least [`LARGE`] bytes.
pub struct HugePageAllocator;

/// The size of a huge page on x86-64 and most aarch64 kernels.
#[cfg(target_os = "linux")]
const HUGE_PAGE: usize = 2 << 20;

/// Blocks this large (the allocator maps them on their own) are worth a request.
#[cfg(target_os = "linux")]
const LARGE: usize = 4 << 20;

/// Ask for huge pages over the whole 2 MiB-aligned part of `size` bytes at `pointer`.
#[inline]
fn advise(pointer: *mut u8, size: usize) {
    #[cfg(target_os = "linux")]
    if !pointer.is_null() && size >= LARGE {
        let start = (pointer as usize).next_multiple_of(HUGE_PAGE);
        let end = (pointer as usize + size) / HUGE_PAGE * HUGE_PAGE;
        if end > start {
            // SAFETY: the range lies inside a block the allocator just handed out; the advice
            // only changes how the kernel backs its pages, never their contents. A failure
            // (huge pages unsupported) leaves things as they were, so its result is ignored.
            unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE) };
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (pointer, size);
}

// SAFETY: every call is forwarded to the system allocator with the same arguments; the advice
// never touches the memory.
unsafe impl GlobalAlloc for HugePageAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract, passed on.
        let pointer = unsafe { System.alloc(layout) };
        advise(pointer, layout.size());
        pointer
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract, passed on.
        let pointer = unsafe { System.alloc_zeroed(layout) };
        advise(pointer, layout.size());
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract, passed on.
        unsafe { System.dealloc(pointer, layout) }
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller's contract, passed on.
        let pointer = unsafe { System.realloc(pointer, layout, new_size) };
        advise(pointer, new_size);
        pointer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Large blocks come back usable: zeroed when asked, their contents kept across a growing
    /// and a shrinking reallocation (the advice never touches memory), and small blocks too.
    #[test]
    fn blocks_of_every_size_keep_their_contents() {
        let allocator = HugePageAllocator;
        for size in [64, 3 << 20, 9 << 20] {
            let layout = Layout::from_size_align(size, 64).unwrap();
            // SAFETY: a valid non-zero layout; every access stays inside the block's current
            // size, and the block is freed with the layout it has then.
            unsafe {
                let block = allocator.alloc_zeroed(layout);
                assert!(!block.is_null());
                let bytes = std::slice::from_raw_parts_mut(block, size);
                assert!(bytes.iter().all(|byte| *byte == 0));
                for (index, byte) in bytes.iter_mut().enumerate() {
                    *byte = (index % 251) as u8;
                }
                let grown = allocator.realloc(block, layout, 2 * size);
                assert!(!grown.is_null());
                let kept = std::slice::from_raw_parts(grown, size);
                assert!(
                    kept.iter()
                        .enumerate()
                        .all(|(i, byte)| *byte == (i % 251) as u8)
                );
                let grown_layout = Layout::from_size_align(2 * size, 64).unwrap();
                let shrunk = allocator.realloc(grown, grown_layout, size / 2);
                let kept = std::slice::from_raw_parts(shrunk, size / 2);
                assert!(
                    kept.iter()
                        .enumerate()
                        .all(|(i, byte)| *byte == (i % 251) as u8)
                );
                allocator.dealloc(shrunk, Layout::from_size_align(size / 2, 64).unwrap());
            }
        }
    }
}
