using System.IO.Compression;
using Portcullis.Server.Http.Streaming.Spdy;

namespace Portcullis.Server.Tests.Http.Streaming;

/// <summary>SPDY/3 framing and header compression, as client-go's moby/spdystream writes and reads them.</summary>
public sealed class SpdyFramingTests
{
    // Two header blocks as a zlib writer with the SPDY dictionary and a sync flush after each writes them
    // (zlib level 9, as Go's spdystream Framer): port-forward's error stream, then its data stream.
    // The second refers back into the first, so it decodes only with the first's history.
    private static readonly byte[] ErrorStreamBlock = Convert.FromHexString(
        "78f9e3c6a7c202253a703a2b294a4dcc851625aca9a0808614cb45a024cc64610024398b209198094adc8c0600000000ffff");
    private static readonly byte[] DataStreamBlock = Convert.FromHexString("c2aa15540a2512d209000000ffff");

    [Fact]
    public void Dictionary_IsSpdy3s_1423Bytes_WithItsAdler32()
    {
        var d = SpdyDictionary.Bytes;
        Assert.Equal(1423, d.Length);
        uint a = 1, b = 0;
        foreach (var x in d) { a = (a + x) % 65521; b = (b + a) % 65521; }
        Assert.Equal(SpdyDictionary.Adler32, (b << 16) | a);
        Assert.Equal("options", System.Text.Encoding.ASCII.GetString(d, 4, 7));
        Assert.EndsWith(",*,enq=0.", System.Text.Encoding.ASCII.GetString(d));
    }

    [Fact]
    public void Inflater_DecodesAZlibStreamWithTheDictionary_FrameByFrame()
    {
        var inflater = new SpdyHeaderInflater();
        var first = SpdyFrames.DecodeHeaders(inflater.Inflate(ErrorStreamBlock));
        Assert.Equal(["error"], first["streamtype"]);
        Assert.Equal(["80"], first["port"]);
        Assert.Equal(["0"], first["requestid"]);
        var second = SpdyFrames.DecodeHeaders(inflater.Inflate(DataStreamBlock));
        Assert.Equal(["data"], second["streamtype"]);
        Assert.Equal(["80"], second["port"]);
    }

    [Fact]
    public void Inflater_RefusesAWrongDictionaryOrHeader()
    {
        var wrongDict = (byte[])ErrorStreamBlock.Clone();
        wrongDict[2] ^= 0xff;
        Assert.Throws<InvalidDataException>(() => new SpdyHeaderInflater().Inflate(wrongDict));
        Assert.Throws<InvalidDataException>(() => new SpdyHeaderInflater().Inflate([0x12, 0x34, 0x00]));
    }

    [Fact]
    public void Inflater_KeepsItsWindowBounded_OverManyFrames()
    {
        var deflater = new SpdyHeaderDeflater();
        var inflater = new SpdyHeaderInflater();
        for (var i = 0; i < 200; i++)
        {
            var block = SpdyFrames.EncodeHeaders([new("x-n", new string('a', 500) + i)]);
            Assert.Equal(block, inflater.Inflate(deflater.Deflate(block)));
        }
    }

    [Fact]
    public void Deflater_WritesStoredBlocksEndedByASyncFlush_WhichZlibReads()
    {
        var deflater = new SpdyHeaderDeflater();
        var empty = SpdyFrames.EncodeHeaders([]);
        var first = deflater.Deflate(empty);
        // zlib header without a preset dictionary; a stored block; the empty stored block of a sync flush.
        Assert.Equal(Convert.FromHexString("7801" + "000400fbff" + "00000000" + "000000ffff"), first);
        var second = deflater.Deflate(empty);
        Assert.Equal(Convert.FromHexString("000400fbff" + "00000000" + "000000ffff"), second);
        // A standard zlib reader sees the blocks' bytes (the stream is closed here with a final empty block).
        var stream = first.Concat(second).Concat(new byte[] { 0x01, 0x00, 0x00, 0xff, 0xff }).ToArray();
        using var z = new ZLibStream(new MemoryStream(stream), CompressionMode.Decompress);
        var output = new MemoryStream();
        var buf = new byte[64];
        int n;
        try { while ((n = z.Read(buf)) > 0) output.Write(buf, 0, n); }
        catch (InvalidDataException) { } // no Adler-32 trailer: the SPDY stream never ends
        Assert.Equal(empty.Concat(empty), output.ToArray());
    }

    [Fact]
    public void Deflater_SplitsLargeBlocks()
    {
        var big = new byte[70_000];
        new Random(1).NextBytes(big);
        Assert.Equal(big, new SpdyHeaderInflater().Inflate(new SpdyHeaderDeflater().Deflate(big)));
    }

    [Fact]
    public void HeaderBlocks_LowerCaseNames_AndSplitNulSeparatedValues()
    {
        var block = SpdyFrames.EncodeHeaders([new("StreamType", "data"), new("X-Multi", "a\0b")]);
        var decoded = SpdyFrames.DecodeHeaders(block);
        Assert.Equal(["data"], decoded["streamtype"]);
        Assert.Equal(["a", "b"], decoded["x-multi"]);
        Assert.Throws<InvalidDataException>(() => SpdyFrames.DecodeHeaders(block.AsSpan(0, block.Length - 1)));
        Assert.Throws<InvalidDataException>(() => SpdyFrames.DecodeHeaders([0, 0, 0, 1, 0xff, 0, 0, 0]));
    }

    [Fact]
    public async Task Frames_RoundTrip_ControlAndData()
    {
        var ms = new MemoryStream();
        ms.Write(SpdyFrames.RstStream(5, SpdyRstStatus.Cancel));
        ms.Write(SpdyFrames.Data(7, SpdyFrame.FlagFin, "hi"u8));
        ms.Write(SpdyFrames.SynReply(9, 0, [1, 2, 3]));
        ms.Position = 0;
        var rst = (await SpdyFrames.ReadAsync(ms, 1 << 20, default))!.Value;
        Assert.True(rst.IsControl);
        Assert.Equal(SpdyControlType.RstStream, rst.Type);
        Assert.Equal(5u, SpdyFrames.LeadingStreamId(rst.Payload));
        Assert.Equal(Convert.FromHexString("8003000300000008" + "00000005" + "00000005"), SpdyFrames.RstStream(5, SpdyRstStatus.Cancel));
        var data = (await SpdyFrames.ReadAsync(ms, 1 << 20, default))!.Value;
        Assert.False(data.IsControl);
        Assert.Equal(7u, data.StreamId);
        Assert.True(data.Fin);
        Assert.Equal("hi"u8.ToArray(), data.Payload);
        var reply = (await SpdyFrames.ReadAsync(ms, 1 << 20, default))!.Value;
        Assert.Equal(SpdyControlType.SynReply, reply.Type);
        Assert.Equal(9u, SpdyFrames.LeadingStreamId(reply.Payload));
        Assert.Null(await SpdyFrames.ReadAsync(ms, 1 << 20, default));
    }

    [Fact]
    public async Task Frames_RefuseOtherVersions_TooLargeFrames_AndTruncation()
    {
        var v2 = SpdyFrames.RstStream(1, SpdyRstStatus.Cancel);
        v2[1] = 2;
        await Assert.ThrowsAsync<InvalidDataException>(() => SpdyFrames.ReadAsync(new MemoryStream(v2), 1 << 20, default));
        await Assert.ThrowsAsync<InvalidDataException>(() => SpdyFrames.ReadAsync(new MemoryStream(SpdyFrames.Data(1, 0, new byte[100])), 10, default));
        await Assert.ThrowsAsync<EndOfStreamException>(() => SpdyFrames.ReadAsync(new MemoryStream(SpdyFrames.Data(1, 0, new byte[100])[..50]), 1 << 20, default));
    }
}
