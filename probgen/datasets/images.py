"""Image data sets: scikit-learn's 8×8 digits and MNIST read from IDX files.

Images are shaped (N, 1, H, W), channels first, with values in [0, 1]. The same options
apply to both: ``binarize`` thresholds at 0.5; ``levels = k`` quantizes to x = c/k with
c = min(⌊k·v⌋, k − 1) for a value v in [0, 1], so that ``dequantize`` (u ~ U[0, 1/k) on the
train split) gives a continuous density on [0, 1) and bits/dim are well defined (see
``Dataset``). ``levels=17`` keeps the digits' 17 grey values exactly, ``levels=256``
MNIST's 256.

IDX is MNIST's file format: a magic number 0x0000TTNN (TT the element type, NN the number
of dimensions), NN big-endian uint32 sizes, then the elements, big-endian.
tests/datasets/test_images.py checks the loaders against scikit-learn's digits, IDX files
written byte by byte, and MNIST's published label counts.
"""

from __future__ import annotations

import dataclasses
import gzip
import math
import struct
import zipfile
from pathlib import Path, PurePosixPath

import numpy as np
import torch

from probgen.datasets.base import Dataset
from probgen.errors import ArgumentError, DataError

DIGITS_TRAIN = 1500
MNIST_TRAIN_FRACTION = 0.8  # of the test images, when the train files are absent
MNIST_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def digits(
    binarize: bool = False, levels: int | None = None, dequantize: bool = False, seed: int = 0
) -> Dataset:
    """scikit-learn's 1,797 handwritten 8×8 digits (bundled, no download), pixels 0..16.

    A seeded permutation (``numpy.random.default_rng(seed)``) puts 1,500 images in
    ``train`` and the other 297 in ``test``; event_shape (1, 8, 8); labels 0..9. Values
    are pixel/16 unless ``binarize`` or ``levels`` says otherwise (module docstring).
    """
    from sklearn.datasets import load_digits  # here: scikit-learn takes a second to import

    raw = load_digits()
    order = np.random.default_rng(seed).permutation(len(raw.target))
    split = order[:DIGITS_TRAIN], order[DIGITS_TRAIN:]
    return _image_dataset(
        "digits", raw.images[:, None] / 16.0, raw.target, split, binarize, levels, dequantize, seed
    )


def mnist(
    path: str | Path,
    binarize: bool = False,
    levels: int | None = None,
    dequantize: bool = False,
    seed: int = 0,
) -> Dataset:
    """MNIST (or a data set in its format) from the IDX files in ``path``.

    ``path`` is a folder or a .zip archive holding ``t10k-images-idx3-ubyte`` and
    ``t10k-labels-idx1-ubyte`` and, optionally, the ``train-*`` pair, each plain, gzipped
    (``.gz``) or zipped alone (``.zip``). With the train pair, train and test are the
    files' own. Without it, a seeded permutation (``numpy.random.default_rng(seed)``) of
    the test images gives the first 80 % (8,000 of MNIST's 10,000) to ``train`` and the
    rest to ``test``. Values are pixel/255 unless ``binarize`` or ``levels`` says otherwise
    (module docstring); event_shape (1, rows, cols). A missing or malformed file raises
    ``DataError``.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"MNIST path {path} does not exist: pass the folder or .zip of IDX files")
    test = _mnist_pair(path, "test")
    if test is None:
        raise _missing(path, MNIST_FILES["test"][0])
    train = _mnist_pair(path, "train")
    if train is None:
        images, labels = test
        order = np.random.default_rng(seed).permutation(len(labels))
        cut = round(MNIST_TRAIN_FRACTION * len(labels))
        split = order[:cut], order[cut:]
    else:
        if train[0].shape[1:] != test[0].shape[1:]:
            raise DataError(
                f"MNIST in {path}: train images are {train[0].shape[1:]} and test images "
                f"{test[0].shape[1:]}; both files must come from one data set"
            )
        images, labels = (np.concatenate(pair) for pair in zip(train, test, strict=True))
        split = np.arange(len(train[1])), np.arange(len(train[1]), len(labels))
    return _image_dataset(
        "mnist", images[:, None] / 255.0, labels, split, binarize, levels, dequantize, seed
    )


def read_idx(source: str | Path | bytes, name: str = "IDX data") -> np.ndarray:
    """The array in an IDX file (a path, plain or ``.gz``) or in its raw ``bytes``.

    Checks the magic number (two zero bytes, a known type code) and that the file holds
    exactly the elements that its header announces; raises ``DataError`` otherwise.
    Returns native-endian numpy values.
    """
    if not isinstance(source, bytes):
        path = Path(source)
        name, source = path.name, path.read_bytes()
        if path.suffix == ".gz":
            source = _gunzip(source, name)
    if len(source) < 4 or source[:2] != b"\0\0" or source[2] not in _IDX_TYPES:
        raise DataError(
            f"{name}: magic number 0x{source[:4].hex()} is not IDX's 0x0000TTNN (TT a type "
            f"code of {sorted(_IDX_TYPES)}): the file is not an IDX file or is corrupt"
        )
    ndim = source[3]
    start = 4 + 4 * ndim
    if len(source) < start:
        raise DataError(f"{name}: the header of {ndim} dimensions is cut short")
    shape = struct.unpack(f">{ndim}I", source[4:start])
    dtype = np.dtype(_IDX_TYPES[source[2]])
    if len(source) - start != math.prod(shape) * dtype.itemsize:
        raise DataError(
            f"{name}: the header announces shape {shape} of {dtype.itemsize}-byte elements "
            f"({math.prod(shape) * dtype.itemsize} bytes), the file holds {len(source) - start}"
        )
    values = np.frombuffer(source, dtype, count=math.prod(shape), offset=start)
    return values.reshape(shape).astype(dtype.newbyteorder("="))


def _mnist_pair(path: Path, split: str) -> tuple[np.ndarray, np.ndarray] | None:
    """The images and labels of ``split``; None when its images file is absent."""
    image_file, label_file = MNIST_FILES[split]
    raw = _find(path, image_file)
    if raw is None:
        return None
    images, labels = read_idx(raw, image_file), _read_member(path, label_file)
    if images.dtype != np.uint8 or images.ndim != 3:
        raise DataError(
            f"{image_file} holds {images.dtype} values of {images.ndim} dimensions; MNIST "
            "images are unsigned bytes in 3 dimensions (magic number 0x00000803)"
        )
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise DataError(
            f"{label_file} holds {labels.dtype} values of {labels.ndim} dimensions; MNIST "
            "labels are unsigned bytes in 1 dimension (magic number 0x00000801)"
        )
    if len(images) != len(labels):
        raise DataError(f"{image_file} has {len(images)} images and {label_file} {len(labels)}")
    return images, labels


def _read_member(path: Path, name: str) -> np.ndarray:
    found = _find(path, name)
    if found is None:
        raise _missing(path, name)
    return read_idx(found, name)


def _missing(path: Path, name: str) -> DataError:
    where = "archive" if path.is_file() else "folder"
    return DataError(
        f"no {name} (plain, .gz or .zip) in the {where} {path}: MNIST needs "
        f"{' and '.join(MNIST_FILES['test'])}, and the train-* pair if present"
    )


def _find(path: Path, name: str) -> bytes | None:
    """The decompressed bytes of the IDX file ``name`` in a folder or a zip archive."""
    if not path.is_dir():
        return _find_in(path, name)
    for candidate in (name, name + ".gz"):
        if (path / candidate).is_file():
            return _decompress((path / candidate).read_bytes(), candidate)
    if (path / (name + ".zip")).is_file():
        return _find_in(path / (name + ".zip"), name)
    return None


def _find_in(archive: Path, name: str) -> bytes | None:
    try:
        with zipfile.ZipFile(archive) as opened:
            for member in opened.namelist():
                base = PurePosixPath(member).name
                if base in (name, name + ".gz"):
                    return _decompress(opened.read(member), base)
    except zipfile.BadZipFile as exc:
        raise DataError(f"{archive} is not a readable zip archive: {exc}") from exc
    return None


def _decompress(raw: bytes, name: str) -> bytes:
    return _gunzip(raw, name) if name.endswith(".gz") else raw


def _gunzip(raw: bytes, name: str) -> bytes:
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError) as exc:
        raise DataError(f"{name} is not a readable gzip file: {exc}") from exc


def _image_dataset(
    name: str,
    values: np.ndarray,
    labels: np.ndarray,
    split: tuple[np.ndarray, np.ndarray],
    binarize: bool,
    levels: int | None,
    dequantize: bool,
    seed: int,
) -> Dataset:
    """Apply the value options to ``values`` in [0, 1] and cut the split."""
    _check_options(binarize, levels, dequantize)
    if binarize:
        values = values > 0.5
    elif levels is not None:
        values = np.minimum(np.floor(values * levels), levels - 1) / levels
    images = torch.as_tensor(values, dtype=torch.float32)
    targets = torch.as_tensor(labels, dtype=torch.int64)
    train, test = (torch.as_tensor(index) for index in split)
    data = Dataset(
        name=name,
        train=images[train],
        test=images[test],
        event_shape=tuple(images.shape[1:]),
        train_labels=targets[train],
        test_labels=targets[test],
        levels=levels,
        binary=binarize,
    )
    if dequantize:
        data = dataclasses.replace(data, train=data.dequantized(data.train, seed))
    return data


def _check_options(binarize: bool, levels: int | None, dequantize: bool) -> None:
    if levels is not None:
        if isinstance(levels, bool) or not isinstance(levels, int) or levels < 2:
            raise ArgumentError(f"levels must be an integer ≥ 2 (or None), got {levels!r}")
        if binarize:
            raise ArgumentError(
                "binarize=True and levels= both set the values: binarize gives {0, 1}, "
                "levels=k gives {0, 1/k, …, (k−1)/k}; pass one of them"
            )
    if dequantize and levels is None:
        raise ArgumentError(
            "dequantize=True adds U[0, 1/k) noise to data quantized to k levels: pass "
            "levels=k as well (e.g. levels=17 for digits, 256 for MNIST)"
        )
