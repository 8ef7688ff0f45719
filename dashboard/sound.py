"""The wall's alarm: a short two-tone beep as a WAV file, made with the standard library (no file shipped)."""

from __future__ import annotations

import io
import math
import struct
import wave
from typing import Final

#: the app serves the alarm here (from memory: built once by ``create_app``)
ALARM_PATH: Final = "/_floodwatch/alarm.wav"


def beep_wav(
    tones: tuple[float, ...] = (988.0, 740.0, 988.0, 740.0),
    tone_s: float = 0.18,
    gap_s: float = 0.04,
    rate: int = 16_000,
    volume: float = 0.6,
) -> bytes:
    """A mono 16-bit WAV of ``tones`` (Hz), each ``tone_s`` long, with short fades and gaps (pure)."""
    frames = bytearray()
    fade = int(rate * 0.01)
    for frequency in tones:
        count = int(rate * tone_s)
        for n in range(count):
            envelope = min(1.0, n / fade, (count - n) / fade)  # no click at either end
            sample = volume * envelope * math.sin(2 * math.pi * frequency * n / rate)
            frames += struct.pack("<h", int(sample * 32767))
        frames += b"\0\0" * int(rate * gap_s)
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(bytes(frames))
    return out.getvalue()
