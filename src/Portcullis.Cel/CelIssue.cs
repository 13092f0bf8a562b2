using System.Globalization;
using System.Text;

namespace Portcullis.Cel;

/// <summary>A compile (parse or check) error, with cel-go's rendering:
/// <c>ERROR: &lt;input&gt;:1:5: message</c> followed by the source line and a caret.</summary>
public sealed class CelIssue(int line, int column, string message, string sourceLine)
{
    public int Line { get; } = line;
    /// <summary>1-based column.</summary>
    public int Column { get; } = column;
    public string Message { get; } = message;

    public override string ToString()
    {
        if (Line < 1) return $"ERROR: <input>:{Line}:{Column}: {Message}";
        var caret = new StringBuilder();
        for (int i = 1; i < Column; i++) caret.Append('.');
        caret.Append('^');
        return $"ERROR: <input>:{Line}:{Column}: {Message}\n | {sourceLine}\n | {caret}";
    }
}

public sealed class CelCompileException(IReadOnlyList<CelIssue> issues)
    : Exception(string.Join("\n", issues))
{
    public IReadOnlyList<CelIssue> Issues { get; } = issues;
}

internal enum Tok
{
    Eof, Ident, Int, Uint, Double, String, Bytes,
    LParen, RParen, LBracket, RBracket, LBrace, RBrace, Dot, Comma, Colon, Question,
    Plus, Minus, Star, Slash, Percent, Not, Lt, Le, Gt, Ge, EqEq, Ne, AndAnd, OrOr, In,
    True, False, Null, QuestionDot, LBracketQuestion,
}

internal readonly record struct Token(Tok Kind, int Start, int End, string? Text = null, CelValue? Value = null);
