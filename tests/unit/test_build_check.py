"""The build check's own judgement (make build runs it on the real layer): arm64 extensions pass, others fail, and
the distributions that ship extensions are found from their RECORD files."""

from __future__ import annotations

from pathlib import Path

from longhaul_dev.build_check import EM_AARCH64, elf_machine, foreign_extensions, native_distributions

EM_X86_64 = 62


def elf(machine: int) -> bytes:
    """The first 20 bytes of a little-endian 64-bit ELF header for ``machine``."""
    return b"\x7fELF\x02\x01\x01" + bytes(11) + machine.to_bytes(2, "little")


def test_only_extensions_for_another_architecture_are_foreign(tmp_path: Path):
    (tmp_path / "fast").mkdir()
    (tmp_path / "fast" / "_speedups.cpython-313-aarch64-linux-gnu.so").write_bytes(elf(EM_AARCH64))
    (tmp_path / "fast" / "_host.cpython-313-x86_64-linux-gnu.so").write_bytes(elf(EM_X86_64))
    (tmp_path / "fast" / "notes.so.txt").write_text("not an ELF file")

    assert elf_machine(tmp_path / "fast" / "_speedups.cpython-313-aarch64-linux-gnu.so") == EM_AARCH64
    assert foreign_extensions(tmp_path) == ["fast/_host.cpython-313-x86_64-linux-gnu.so"]


def test_distributions_with_extensions_come_from_their_record(tmp_path: Path):
    for name, version, files in [
        ("fast", "1.2.3", ["fast/__init__.py", "fast/_speedups.cpython-313-aarch64-linux-gnu.so"]),
        ("pure", "4.5", ["pure/__init__.py"]),
    ]:
        info = tmp_path / f"{name}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        (info / "RECORD").write_text("".join(f"{f},sha256=x,1\n" for f in files))

    assert native_distributions(tmp_path) == ["fast==1.2.3"]
