"""Rebuild ``assets/digits.npz``: the UCI optical handwritten digits, as scikit-learn ships them.

Usage (from the repository root; scikit-learn is needed for this script only, not by the
app or the tests)::

    pip install scikit-learn
    python assets/make_digits.py

The 1,797 images of 8×8 pixels (integers 0..16, the count of "on" pixels in each
4×4 block of a 32×32 bitmap) and their labels 0..9 are the test set of the UCI
"Optical Recognition of Handwritten Digits" data set (E. Alpaydin and C. Kaynak,
1998; CC BY 4.0), the copy bundled with scikit-learn as ``load_digits``. They are
stored as uint8 in a compressed ``.npz`` (``images`` (1797, 8, 8), ``labels``
(1797,)); the zip entries get a fixed timestamp, so a rebuild is byte-identical.
See ``assets/README.md`` for the licence and the attribution.
"""
from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent / "digits.npz"


def digits() -> tuple[np.ndarray, np.ndarray]:
    """The images (uint8, 0..16) and labels (uint8, 0..9) from scikit-learn's bundled copy."""
    from sklearn.datasets import load_digits  # only this script needs scikit-learn

    bunch = load_digits()
    images = np.asarray(bunch.images)
    if images.shape != (1797, 8, 8) or not np.array_equal(images, np.rint(images)) \
            or images.min() < 0 or images.max() > 16:
        raise SystemExit(f"unexpected images from scikit-learn: {images.shape}, "
                         f"{images.min()}..{images.max()}")
    return images.astype(np.uint8), np.asarray(bunch.target).astype(np.uint8)


def write_npz(path: Path, **arrays: np.ndarray) -> None:
    """``np.savez_compressed``, but with fixed zip timestamps (a byte-identical file)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, array in arrays.items():
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.ascontiguousarray(array), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, buffer.getvalue(), compresslevel=9)


def main() -> None:
    images, labels = digits()
    write_npz(OUT, images=images, labels=labels)
    content = hashlib.sha256(images.tobytes() + labels.tobytes()).hexdigest()
    print(f"wrote {OUT.name}: {OUT.stat().st_size:,} bytes, images {images.shape}, "
          f"labels per class {np.bincount(labels).tolist()}, content sha256 {content}")


if __name__ == "__main__":
    main()
