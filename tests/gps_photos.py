"""Photos as phones send them: GPS in EXIF and XMP, orientation 6, in every format we take."""

from __future__ import annotations

import io

import pillow_heif
from PIL import Image, PngImagePlugin

pillow_heif.register_heif_opener()

PLACE = b"ChaoyangDistrict"  # a GPSAreaInformation value: must not survive anywhere
XMP = (
    b'<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?>'
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" '
    b'xmlns:exif="http://ns.adobe.com/exif/1.0/" xmlns:tiff="http://ns.adobe.com/tiff/1.0/" '
    b'xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/" tiff:Orientation="6" '
    b'exif:GPSLatitude="39,54.4500N" exif:GPSLongitude="116,23.5000E" photoshop:City="Beijing"/>'
    b'</rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
)
TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "HEIF": "image/heic"}


def picture() -> Image.Image:
    """Landscape, dark top-left corner: shown upright only if orientation 6 is applied."""
    im = Image.effect_noise((96, 64), 40).convert("RGB")
    im.paste((10, 10, 10), (0, 0, 24, 16))
    return im


def gps_exif(orientation: int = 6) -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "PhoneMaker"
    exif.get_ifd(0x8769)[0x9003] = "2026:11:02 09:30:00"
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (39.0, 54.0, 27.0), 3: "E", 4: (116.0, 23.0, 30.0)})
    gps[0x1C] = b"ASCII\x00\x00\x00" + PLACE
    return exif


def photo(fmt: str, *, exif: Image.Exif | None = None, xmp: bytes | None = XMP) -> bytes:
    out = io.BytesIO()
    params: dict[str, object] = {"exif": (exif or gps_exif()).tobytes()}
    if fmt == "PNG":
        info = PngImagePlugin.PngInfo()
        if xmp:
            info.add_itxt("XML:com.adobe.xmp", xmp.decode())
        params["pnginfo"] = info
    elif xmp:
        params["xmp"] = xmp
    if fmt == "WEBP":
        params["lossless"] = True
    picture().save(out, fmt, **params)
    return out.getvalue()


def pixels(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as im:
        return im.convert("RGB").tobytes()
