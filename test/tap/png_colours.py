#!/usr/bin/env python3
"""Prints the number of distinct colours of a PNG and, for each #rrggbb given, how many pixels
have exactly that colour: "colours N #e53935=123 ...". Reads 8-bit RGB/RGBA, non-interlaced
PNGs (what headless Chromium writes); used by test/tap/024_timeline.pl."""
import struct
import sys
import zlib


def pixels(path):
    data = open(path, 'rb').read()
    if data[:8] != b'\x89PNG\r\n\x1a\n':
        raise SystemExit('not a PNG')
    pos, idat, header = 8, b'', None
    while pos < len(data):
        length, kind = struct.unpack('>I4s', data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b'IHDR':
            header = struct.unpack('>IIBBBBB', chunk)
        elif kind == b'IDAT':
            idat += chunk
    width, height, depth, colour, _, _, interlace = header
    if depth != 8 or colour not in (2, 6) or interlace:
        raise SystemExit('unsupported PNG: depth %d colour type %d' % (depth, colour))
    bpp = 3 if colour == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    previous = bytearray(stride)
    out = []
    for y in range(height):
        filt = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = previous[i]
            c = previous[i - bpp] if i >= bpp else 0
            if filt == 1:
                line[i] = (line[i] + a) & 0xFF
            elif filt == 2:
                line[i] = (line[i] + b) & 0xFF
            elif filt == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif filt == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        out.extend(bytes(line[i:i + 3]) for i in range(0, stride, bpp))
        previous = line
    return out


counts = {}
for px in pixels(sys.argv[1]):
    counts[px] = counts.get(px, 0) + 1
report = ['colours %d' % len(counts)]
for want in sys.argv[2:]:
    report.append('%s=%d' % (want, counts.get(bytes.fromhex(want.lstrip('#')), 0)))
print(' '.join(report))
