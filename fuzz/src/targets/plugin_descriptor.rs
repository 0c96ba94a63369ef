//! The checks of a plugin's descriptor, on descriptors built in memory from the input (no
//! library is loaded): never a panic; a descriptor accepted declares 2 to 127 classes and LFs
//! with unique, non-empty names and known column types. Pointers are valid or null, as the ABI
//! contract has them; lengths are the real ones. The host's reading of a plugin's error
//! message (any length, any bytes) is checked too.

use arbitrary::{Arbitrary, Unstructured};
use labelgen_sdk::abi::{
    ABI_VERSION, ColumnSpec, DESCRIPTOR_MAGIC, ERROR_MESSAGE_CAPACITY, ErrorBuffer, LfDescriptor,
    PluginDescriptor, StrRef,
};

#[derive(Arbitrary, Debug)]
struct Text {
    bytes: Vec<u8>,
    null: bool,
}

#[derive(Arbitrary, Debug)]
struct Lf {
    name: Text,
    columns: Vec<(Text, u32)>,
    null_columns: bool,
}

#[derive(Arbitrary, Debug)]
struct Fake {
    magic: bool,
    abi: bool,
    name: Text,
    version: Text,
    classes: Vec<Text>,
    null_classes: bool,
    lfs: Vec<Lf>,
    null_lfs: bool,
    message: Vec<u8>,
    message_len: usize,
}

fn str_ref(text: &Text) -> StrRef {
    StrRef {
        ptr: if text.null {
            std::ptr::null()
        } else {
            text.bytes.as_ptr()
        },
        len: text.bytes.len(),
    }
}

unsafe extern "C" fn apply(
    _: usize,
    _: *const labelgen_sdk::abi::Batch,
    _: *mut i8,
    _: *mut ErrorBuffer,
) -> i32 {
    0
}

pub fn run(data: &[u8]) {
    let Ok(fake) = Fake::arbitrary_take_rest(Unstructured::new(data)) else {
        return;
    };
    let columns: Vec<Vec<ColumnSpec>> = fake
        .lfs
        .iter()
        .map(|lf| {
            lf.columns
                .iter()
                .map(|(name, dtype)| ColumnSpec {
                    name: str_ref(name),
                    dtype: *dtype % 6,
                })
                .collect()
        })
        .collect();
    let lfs: Vec<LfDescriptor> = fake
        .lfs
        .iter()
        .zip(&columns)
        .map(|(lf, specs)| LfDescriptor {
            name: str_ref(&lf.name),
            columns: if lf.null_columns {
                std::ptr::null()
            } else {
                specs.as_ptr()
            },
            n_columns: specs.len(),
        })
        .collect();
    let classes: Vec<StrRef> = fake.classes.iter().map(str_ref).collect();
    let descriptor = PluginDescriptor {
        magic: if fake.magic { DESCRIPTOR_MAGIC } else { 0 },
        abi_version: if fake.abi {
            ABI_VERSION
        } else {
            ABI_VERSION + 1
        },
        name: str_ref(&fake.name),
        version: str_ref(&fake.version),
        classes: if fake.null_classes {
            std::ptr::null()
        } else {
            classes.as_ptr()
        },
        n_classes: classes.len(),
        lfs: if fake.null_lfs {
            std::ptr::null()
        } else {
            lfs.as_ptr()
        },
        n_lfs: lfs.len(),
        apply,
    };
    let path = std::path::Path::new("libfake.so");
    // SAFETY: every pointer is null or points to as many items as its length says.
    let checked =
        unsafe { labelgen::lf::plugin::check_descriptor(path, &descriptor, blake3::hash(b"fake")) };
    if let Ok((classes, infos)) = checked {
        assert!((2..=127).contains(&classes.len()));
        let mut names = std::collections::HashSet::new();
        for info in &infos {
            assert!(!info.name.trim().is_empty());
            assert!(names.insert(info.name.clone()), "LF `{}` twice", info.name);
        }
    }

    let mut error = ErrorBuffer::new();
    let len = fake.message.len().min(ERROR_MESSAGE_CAPACITY);
    error.message[..len].copy_from_slice(&fake.message[..len]);
    error.message_len = fake.message_len;
    let message = error.message();
    assert!(message.len() <= ERROR_MESSAGE_CAPACITY);
}
