"""Encoding stylised frames with PyAV, the source's audio copied packet for packet.

The container follows the output's extension: H.264 in .mp4/.m4v/.mov, VP9 in .webm, a GIF with
a palette per frame (Pillow's median cut). Every frame keeps its source timestamp, so the frame
rate (also a variable one, as in GIFs) and the sync with the audio are kept; the display
rotation is written back (see ``reader.stored``; a GIF has none, so its frames are written
upright). The audio track is remuxed, never re-encoded;
a container that cannot hold its codec (AAC in WebM, anything in a GIF) gets no audio, and
:attr:`VideoWriter.notes` says so. The writer writes where it is told: ``export`` gives it a
temporary name and publishes the finished file.
"""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from stylestudio.core.video import VideoError
from stylestudio.core.video.reader import VideoInfo, stored

if TYPE_CHECKING:
    import av.container
    import av.packet
    import av.stream

#: Audio is muxed this far ahead of the video (seconds), so the muxer interleaves the two.
AUDIO_LEAD_S = 0.5
GIF_TIME_BASE = Fraction(1, 100)


class Container(enum.Enum):
    """Output containers, by file extension."""

    MP4 = "mp4"
    MOV = "mov"
    WEBM = "webm"
    GIF = "gif"

    @classmethod
    def for_path(cls, path: Path) -> Container:
        suffix = path.suffix.lower().lstrip(".")
        if suffix == "m4v":
            return cls.MP4
        try:
            return cls(suffix)
        except ValueError:
            raise VideoError(
                f"Cannot write {path.name}: a video is saved as .mp4, .mov, .webm or .gif."
            ) from None


@dataclass(frozen=True)
class Encoding:
    """How frames are compressed; ``quality`` 1–100 as for photos (92 is visually lossless)."""

    quality: int = 92

    def crf(self, container: Container) -> int:
        q = min(max(self.quality, 1), 100)
        if container is Container.WEBM:  # VP9: 0–63
            return round(63 - q * 0.5)
        return round(51 - q * 0.36)  # x264: 0–51, 92 → 18


_CODECS: dict[Container, tuple[str, ...]] = {
    Container.MP4: ("libx264", "h264", "mpeg4"),
    Container.MOV: ("libx264", "h264", "mpeg4"),
    Container.WEBM: ("libvpx-vp9", "libvpx"),
    Container.GIF: ("gif",),
}


def _encoder(container: Container) -> str:
    import av

    for name in _CODECS[container]:
        with contextlib.suppress(Exception):
            av.codec.Codec(name, "w")
            return name
    raise VideoError(f"This build of PyAV cannot encode .{container.value} video.")


def _gif_frame(rgb: np.ndarray):
    """A pal8 frame: Pillow's median-cut palette of ``rgb`` (256 colours, no dithering)."""
    import av
    from PIL import Image

    quantized = Image.fromarray(rgb).quantize(256, method=Image.Quantize.MEDIANCUT, dither=0)
    palette = np.asarray(quantized.getpalette() or [], dtype=np.uint8).reshape(-1, 3)[:256]
    palette = np.pad(palette, ((0, 256 - len(palette)), (0, 0)))
    argb = np.concatenate([np.full((256, 1), 255, np.uint8), palette], axis=1)
    return av.VideoFrame.from_ndarray((np.asarray(quantized), argb), format="pal8")


class VideoWriter:
    """Writes ``info``-shaped upright frames to ``path``; :meth:`close` finishes the file.

    ``audio_from`` is the source clip whose first audio track is copied (None: no audio).
    """

    def __init__(
        self,
        path: Path,
        info: VideoInfo,
        *,
        audio_from: Path | None = None,
        encoding: Encoding = Encoding(),
    ) -> None:
        import av

        self.path = Path(path)
        self.info = info
        self.kind = Container.for_path(self.path)
        self.notes: list[str] = []
        self.frames_written = 0
        self._last_pts: int | None = None
        self._audio_in: av.container.InputContainer | None = None
        self._audio_packets: Iterator[av.packet.Packet] | None = None
        self._audio_out: av.stream.Stream | None = None
        self._pending: av.packet.Packet | None = None
        #: GIFs have no display rotation: their frames are written upright.
        self._rotation = 0 if self.kind is Container.GIF else info.rotation
        codec = _encoder(self.kind)
        try:
            self._out = av.open(str(self.path), mode="w", format=self.kind.value)
        except (av.FFmpegError, OSError) as exc:
            raise VideoError(f"Cannot write {self.path.name} ({exc}).") from None
        try:
            self._video = self._add_video(codec, encoding)
            if audio_from is not None and info.has_audio:
                self._add_audio(audio_from)
        except BaseException:
            self.abort()
            raise

    # setup ------------------------------------------------------------------------------------
    def _add_video(self, codec: str, encoding: Encoding) -> av.stream.Stream:
        info = self.info
        width, height = info.width, info.height
        if self._rotation % 180:
            width, height = height, width
        stream = self._out.add_stream(codec, rate=info.frame_rate)
        stream.width, stream.height = width, height
        self._time_base = GIF_TIME_BASE if self.kind is Container.GIF else info.time_base
        stream.codec_context.time_base = self._time_base
        stream.time_base = self._time_base
        if self.kind is Container.GIF:
            stream.pix_fmt = "pal8"
        else:
            # 4:2:0 needs even sides; odd ones keep their size in 4:4:4.
            even = width % 2 == 0 and height % 2 == 0
            stream.pix_fmt = "yuv420p" if even or codec.startswith("libvpx") else "yuv444p"
            crf = str(encoding.crf(self.kind))
            if codec == "libx264":
                stream.codec_context.options = {"crf": crf, "preset": "medium"}
            elif codec.startswith("libvpx"):
                stream.codec_context.options = {
                    "crf": crf,
                    "b": "0",
                    "deadline": "good",
                    "cpu-used": "4",
                    "row-mt": "1",
                }
            else:
                stream.bit_rate = max(1_000_000, width * height * 8)
        if self._rotation:
            stream.set_display_rotation(self._rotation)
        return stream

    def _add_audio(self, source: Path) -> None:
        import av

        try:
            self._audio_in = av.open(str(source), mode="r")
            track = self._audio_in.streams.audio[0]
        except (av.FFmpegError, OSError, IndexError):
            self.notes.append("The audio could not be read; the video was written without it.")
            return
        codec = track.codec_context.name if track.codec_context else "unknown"
        if codec not in self._out.supported_codecs:
            self.notes.append(
                f"A .{self.kind.value} file cannot hold {codec} audio without re-encoding it; "
                "the video was written without sound."
            )
            self._audio_in.close()
            self._audio_in = None
            return
        self._audio_out = self._out.add_stream_from_template(track)
        self._audio_packets = self._audio_in.demux(track)

    # writing ----------------------------------------------------------------------------------
    def _out_pts(self, pts: int) -> int:
        if self._time_base == self.info.time_base:
            out = int(pts)
        else:
            out = round(pts * self.info.time_base / self._time_base)
        if self._last_pts is not None and out <= self._last_pts:
            out = self._last_pts + 1  # rounding to a coarser clock must not repeat a timestamp
        self._last_pts = out
        return out

    def write(self, rgb: np.ndarray, pts: int) -> None:
        """Encode one upright uint8 RGB frame shown at ``pts`` (in ``info.time_base``)."""
        import av

        if rgb.dtype != np.uint8 or rgb.shape != (self.info.height, self.info.width, 3):
            raise ValueError(f"frame of shape {rgb.shape} / {rgb.dtype} for a {self.info} video")
        pixels = stored(rgb, self._rotation)
        if self.kind is Container.GIF:
            frame = _gif_frame(pixels)
        else:
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
        frame.pts = self._out_pts(pts)
        frame.time_base = self._time_base
        self._mux_audio(until_s=float(frame.pts * self._time_base) + AUDIO_LEAD_S)
        try:
            self._out.mux(self._video.encode(frame))
        except (av.FFmpegError, OSError) as exc:
            raise VideoError(f"Cannot write {self.path.name} ({exc}).") from None
        self.frames_written += 1

    def _mux_audio(self, until_s: float | None) -> None:
        """Copy source audio packets up to ``until_s`` seconds (None: all that are left)."""
        if self._audio_packets is None or self._audio_out is None:
            return
        while True:
            packet = self._pending
            self._pending = None
            if packet is None:
                packet = next(self._audio_packets, None)
                if packet is None:
                    self._audio_packets = None
                    return
            if packet.dts is None:  # the demuxer's empty flush packet
                continue
            timed = until_s is not None and packet.pts is not None and packet.time_base is not None
            if timed and float(packet.pts * packet.time_base) > until_s:
                self._pending = packet
                return
            packet.stream = self._audio_out
            self._out.mux(packet)

    def close(self) -> None:
        """Flush the encoder, copy the rest of the audio, finish the container."""
        import av

        try:
            self._out.mux(self._video.encode(None))
            self._mux_audio(until_s=None)
            self._out.close()
        except (av.FFmpegError, OSError) as exc:
            self.abort()
            raise VideoError(f"Cannot write {self.path.name} ({exc}).") from None
        finally:
            self._close_audio()

    def abort(self) -> None:
        """Stop without finishing (the caller removes the file)."""
        with contextlib.suppress(Exception):
            self._out.close()
        self._close_audio()

    def _close_audio(self) -> None:
        if self._audio_in is not None:
            with contextlib.suppress(Exception):
                self._audio_in.close()
            self._audio_in = None
            self._audio_packets = None
