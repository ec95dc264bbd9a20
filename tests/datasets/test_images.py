"""digits and MNIST: splits, value options, bits/dim, and the IDX reader.

References: scikit-learn's bundled digits (the same images as a multiset), IDX files that
the tests write byte by byte, exhaustive enumeration of a histogram density for bits/dim,
and the published MNIST test-set label counts.
"""

from __future__ import annotations

import gzip
import math
import struct
import zipfile

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from probgen.datasets import Dataset, digits, mnist, read_idx, shared_folder
from probgen.errors import ArgumentError, DataError

# the published per-digit counts of MNIST's 10,000 test labels
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
TYPE_CODES = {np.uint8: 0x08, np.int8: 0x09, np.int16: 0x0B, np.int32: 0x0C}
TYPE_CODES |= {np.float32: 0x0D, np.float64: 0x0E}


def idx_bytes(array: np.ndarray) -> bytes:
    """An IDX file of ``array``, written from the format's definition."""
    header = bytes([0, 0, TYPE_CODES[array.dtype.type], array.ndim])
    dims = struct.pack(f">{array.ndim}I", *array.shape)
    return header + dims + array.astype(array.dtype.newbyteorder(">")).tobytes()


def rows(images: torch.Tensor, labels: torch.Tensor) -> np.ndarray:
    """Each example as one row (pixels then label), rows sorted: a multiset to compare."""
    table = np.concatenate([images.reshape(len(images), -1).numpy(), labels[:, None]], 1)
    return table[np.lexsort(table.T[::-1])]


# --- digits -------------------------------------------------------------------------------


def test_digits_split_holds_every_sklearn_digit_once():
    data = digits()
    assert data.train.shape == (1500, 1, 8, 8) and data.test.shape == (297, 1, 8, 8)
    assert data.event_shape == (1, 8, 8) and data.train.dtype == torch.float32
    assert data.train_labels.dtype == torch.int64
    raw = load_digits()
    images = torch.cat([data.train, data.test]) * 16  # pixel/16 is exact in float32
    ours = rows(images, torch.cat([data.train_labels, data.test_labels]))
    sklearn = rows(torch.as_tensor(raw.images), torch.as_tensor(raw.target))
    np.testing.assert_array_equal(ours, sklearn)


def test_digits_split_is_a_function_of_the_seed():
    a, b, c = digits(seed=0), digits(seed=0), digits(seed=1)
    assert torch.equal(a.train, b.train) and torch.equal(a.test_labels, b.test_labels)
    assert not torch.equal(a.train, c.train)


def test_digits_binarize_and_levels():
    values = digits().train
    binary = digits(binarize=True)
    assert binary.binary and torch.equal(binary.train, (values > 0.5).float())
    # 17 levels keep the 17 grey values 0..16 exactly: codes c = pixel
    lossless = digits(levels=17)
    assert torch.equal(lossless.train * 17, values * 16)
    four = digits(levels=4).train.numpy()
    codes = np.minimum(np.floor(values.numpy() * 4), 3)
    np.testing.assert_array_equal(four, codes / 4)
    assert set(np.unique(four * 4)) == {0, 1, 2, 3}


def test_dequantize_adds_seeded_uniform_noise_to_train_only():
    k = 17
    plain, noisy = digits(levels=k), digits(levels=k, dequantize=True, seed=0)
    assert torch.equal(noisy.test, plain.test)
    offset = (noisy.train - plain.train).double() * k
    assert offset.min() >= 0 and offset.max() < 1 + 1e-5
    assert noisy.train.max() < 1
    assert 0.45 < offset.mean().item() < 0.55  # U[0, 1) has mean 1/2; 96,000 draws
    assert torch.equal(noisy.train, digits(levels=k, dequantize=True, seed=0).train)


def test_dequantized_stays_below_one_in_float32():
    top = torch.full((2**22,), 255 / 256)
    data = Dataset("top", top, top, (), levels=256)
    noise = torch.rand(top.shape, generator=torch.Generator().manual_seed(0))
    assert (top + noise / 256 == 1).any()  # float32 rounding reaches 1 for u > 1 − 2⁻¹⁷
    y = data.dequantized(top, seed=0)
    assert y.max() < 1 and y.min() >= top[0]


def test_bits_per_dim_equals_the_discrete_nll_of_a_histogram_density():
    """For a density constant on each quantization cell, Jensen's bound is an equality:
    P(c) = p(c)/k, so bits/dim of the continuous NLL must equal the discrete NLL in bits
    per dimension, computed here by enumeration over the data."""
    k, d = 5, 3
    rng = np.random.default_rng(0)
    heights = rng.dirichlet(np.ones(k), size=d) * k  # a density on [0, 1) per dimension
    codes = rng.integers(k, size=(200, d))
    x = torch.as_tensor(codes / k, dtype=torch.float32)
    data = Dataset("histogram", x, x, (d,), levels=k)
    y = data.dequantized(x).double().numpy()
    cells = np.minimum(np.floor(y * k), k - 1).astype(int)
    assert np.array_equal(cells, codes)
    continuous_nll = -np.log(heights[np.arange(d), cells]).sum(1).mean()
    discrete_nll = -np.log(heights[np.arange(d), codes] / k).sum(1).mean()
    assert data.bits_per_dim(continuous_nll) == pytest.approx(
        discrete_nll / (d * math.log(2)), rel=1e-12
    )
    uniform = Dataset("u", x, x, (d,), levels=k)  # the uniform density: log2(k) bits
    assert uniform.bits_per_dim(0.0) == pytest.approx(math.log2(k), rel=1e-12)
    binary = Dataset("b", x, x, (1, 2, 2), binary=True)  # fair coins: 1 bit per pixel
    assert binary.bits_per_dim(4 * math.log(2)) == pytest.approx(1.0, rel=1e-12)


def test_bits_per_dim_and_dequantize_need_quantized_data():
    data = digits()
    with pytest.raises(ArgumentError, match="levels"):
        data.bits_per_dim(1.0)
    with pytest.raises(ArgumentError, match="levels"):
        data.dequantized(data.train)


@pytest.mark.parametrize(
    "options, match",
    [
        ({"binarize": True, "levels": 4}, "binarize"),
        ({"levels": 1}, "levels"),
        ({"levels": 2.5}, "levels"),
        ({"levels": True}, "levels"),
        ({"dequantize": True}, "levels=k"),
    ],
)
def test_digits_option_errors(options, match):
    with pytest.raises(ArgumentError, match=match):
        digits(**options)


# --- IDX ----------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", list(TYPE_CODES))
def test_read_idx_round_trips_every_type(tmp_path, dtype):
    rng = np.random.default_rng(0)
    array = (rng.standard_normal((3, 4, 5)) * 100).astype(dtype)
    assert np.array_equal(read_idx(idx_bytes(array)), array)
    (tmp_path / "a.idx").write_bytes(idx_bytes(array))
    (tmp_path / "a.idx.gz").write_bytes(gzip.compress(idx_bytes(array)))
    for name in ("a.idx", "a.idx.gz"):
        back = read_idx(tmp_path / name)
        assert back.dtype == dtype and np.array_equal(back, array)


@pytest.mark.parametrize(
    "damage, match",
    [
        (lambda raw: b"\x01" + raw[1:], "magic number 0x01000803"),
        (lambda raw: raw[:2] + b"\x07" + raw[3:], "magic number"),
        (lambda raw: raw[:-1], "holds 23"),
        (lambda raw: raw[:9], "cut short"),
        (lambda raw: b"\0", "magic number"),
    ],
)
def test_read_idx_rejects_malformed_files(damage, match):
    raw = idx_bytes(np.zeros((2, 3, 4), np.uint8))
    with pytest.raises(DataError, match=match):
        read_idx(damage(raw))


# --- MNIST --------------------------------------------------------------------------------


def tiny_mnist(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "train-images-idx3-ubyte": rng.integers(256, size=(6, 4, 3), dtype=np.uint8),
        "train-labels-idx1-ubyte": rng.integers(10, size=6, dtype=np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(256, size=(5, 4, 3), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": rng.integers(10, size=5, dtype=np.uint8),
    }


def write_layout(root, files: dict[str, np.ndarray], layout: str):
    """The files as plain files, gzipped files, one zip per file, or one zip archive."""
    root.mkdir()
    if layout == "archive":
        with zipfile.ZipFile(root / "mnist.zip", "w") as archive:
            for name, array in files.items():
                archive.writestr(f"mnist/{name}.gz", gzip.compress(idx_bytes(array)))
        return root / "mnist.zip"
    for name, array in files.items():
        if layout == "plain":
            (root / name).write_bytes(idx_bytes(array))
        elif layout == "gz":
            (root / f"{name}.gz").write_bytes(gzip.compress(idx_bytes(array)))
        else:
            with zipfile.ZipFile(root / f"{name}.zip", "w", zipfile.ZIP_DEFLATED) as archive:
                archive.writestr(name, idx_bytes(array))
    return root


@pytest.mark.parametrize("layout", ["plain", "gz", "zip-per-file", "archive"])
def test_mnist_reads_every_layout_exactly(tmp_path, layout):
    files = tiny_mnist()
    data = mnist(write_layout(tmp_path / "m", files, layout))
    assert data.event_shape == (1, 4, 3)
    np.testing.assert_array_equal(data.train[:, 0] * 255, files["train-images-idx3-ubyte"])
    np.testing.assert_array_equal(data.test[:, 0] * 255, files["t10k-images-idx3-ubyte"])
    np.testing.assert_array_equal(data.train_labels, files["train-labels-idx1-ubyte"])
    np.testing.assert_array_equal(data.test_labels, files["t10k-labels-idx1-ubyte"])
    lossless = mnist(write_layout(tmp_path / "k", files, layout), levels=256)
    assert torch.equal(lossless.test * 256, data.test * 255)


def test_mnist_without_train_files_splits_the_test_set(tmp_path):
    files = tiny_mnist()
    test_only = {k: v for k, v in files.items() if k.startswith("t10k")}
    data = mnist(write_layout(tmp_path / "m", test_only, "plain"), seed=3)
    assert len(data.train) == 4 and len(data.test) == 1  # 80 % of 5
    images = torch.cat([data.train, data.test])[:, 0] * 255
    order = np.lexsort(images.reshape(5, -1).numpy().T)
    expected = files["t10k-images-idx3-ubyte"].reshape(5, -1)
    np.testing.assert_array_equal(
        images.reshape(5, -1).numpy()[order], expected[np.lexsort(expected.T)]
    )


def test_mnist_rejects_bad_files(tmp_path):
    files = tiny_mnist()
    swapped = dict(files, **{"t10k-images-idx3-ubyte": files["t10k-labels-idx1-ubyte"]})
    with pytest.raises(DataError, match="0x00000803"):
        mnist(write_layout(tmp_path / "a", swapped, "plain"))
    short = dict(files, **{"t10k-labels-idx1-ubyte": files["t10k-labels-idx1-ubyte"][:4]})
    with pytest.raises(DataError, match="5 images"):
        mnist(write_layout(tmp_path / "b", short, "plain"))
    no_test = {k: v for k, v in files.items() if k.startswith("train")}
    with pytest.raises(DataError, match="t10k-images-idx3-ubyte"):
        mnist(write_layout(tmp_path / "c", no_test, "gz"))
    root = write_layout(tmp_path / "d", files, "plain")
    (root / "t10k-images-idx3-ubyte").write_bytes(b"\x08\x03" + b"\0" * 30)
    with pytest.raises(DataError, match="magic number"):
        mnist(root)
    with pytest.raises(DataError, match="does not exist"):
        mnist(tmp_path / "absent")


def test_shared_mnist_test_set():
    folder = shared_folder("data/mnist")
    if folder is None:
        pytest.skip("../shared/data/mnist not found: set PROBGEN_SHARED to the shared folder")
    data = mnist(folder)
    assert data.train.shape == (8000, 1, 28, 28) and data.test.shape == (2000, 1, 28, 28)
    labels = torch.cat([data.train_labels, data.test_labels])
    assert torch.bincount(labels).tolist() == MNIST_TEST_COUNTS
    pixels = torch.cat([data.train, data.test]) * 255
    assert torch.equal(pixels, pixels.round()) and pixels.max() == 255 and pixels.min() == 0
