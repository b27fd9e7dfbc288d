// Template text → Program. One pass, recursive descent, no separate token stream.
//
// Whitespace follows Velocity 1.7 as API Gateway renders it:
//   * `#set` eats the spaces and tabs just before it;
//   * the `)` closing a directive's arguments (#set #if #elseif #foreach #macro #define, macro calls),
//     and `#else` / `#end`, eat trailing spaces/tabs when a newline follows them, and that newline;
//   * `##` comments eat their newline; `#* *#` comments do not;
//   * indentation before other directives is kept.
import { Node, N, Op, FLAG_QUIET, Program, Macro } from "./ast";
import { Value, fromInt, fromDouble, fromString, parseDouble, TRUE, FALSE } from "./values";
import { methodId } from "./methods";
import { SB } from "../util/sb";
import { CharCode, isDigit, isIdentStart, isIdentPart, isSpace, charAt16 } from "../util/char-code";
import * as E from "../util/errors";

const TERM_EOF = 0;
const TERM_END = 1;
const TERM_ELSE = 2;
const TERM_ELSEIF = 3;

export let errorMessage: string = "";
export let errorPos: i32 = -1;

class Parser {
  src: string;
  n: i32;
  pos: i32 = 0;
  prog: Program;
  failed: bool = false;
  term: i32 = TERM_EOF;
  termPos: i32 = 0;
  termCond: Node | null = null; // the condition of a #elseif terminator
  text: SB = new SB(256);
  textStart: i32 = 0;

  constructor(src: string, n: i32, prog: Program) {
    this.src = src;
    this.n = n;
    this.prog = prog;
  }

  fail(msg: string, at: i32): void {
    if (!this.failed) { this.failed = true; errorMessage = msg; errorPos = at; }
  }

  @inline c(i: i32): i32 { return i < this.n ? charAt16(this.src, i) : -1; }

  flush(out: Array<Node>): void {
    if (this.text.len == 0) return;
    let s = this.text.toString();
    let buf = String.UTF8.encode(s);
    let node = new Node(N.TEXT, this.textStart);
    node.textPtr = changetype<usize>(buf);
    node.textLen = buf.byteLength;
    node.value = fromString(s); // keeps the buffer reachable and lets macro bodies reuse the text
    out.push(node);
    this.text.len = 0;
  }

  addText(c: i32): void {
    if (this.text.len == 0) this.textStart = this.pos;
    this.text.ch(c);
  }

  // eats [ \t]* newline after a directive, when present
  gobbleNewline(): void {
    let i = this.pos;
    while (i < this.n) {
      let c = charAt16(this.src, i);
      if (c == CharCode.SPACE || c == CharCode.TAB) i++; else break;
    }
    if (i < this.n) {
      let c = charAt16(this.src, i);
      if (c == CharCode.LF) { this.pos = i + 1; return; }
      if (c == CharCode.CR) { this.pos = (i + 1 < this.n && charAt16(this.src, i + 1) == CharCode.LF) ? i + 2 : i + 1; return; }
    }
  }

  // ---- template level ----

  parseBlock(): Array<Node> {
    let out = new Array<Node>();
    let src = this.src;
    while (this.pos < this.n && !this.failed) {
      let c = charAt16(src, this.pos);
      if (c == CharCode.HASH) {
        if (this.hash(out)) return out;
      } else if (c == CharCode.DOLLAR) {
        let start = this.pos;
        let ref = this.reference(true);
        if (ref !== null) { this.flush(out); out.push(ref); }
        else if (!this.failed) { this.pos = start + 1; this.addText(c); }
      } else if (c == CharCode.BACKSLASH) {
        this.backslash(out);
      } else {
        if (this.text.len == 0) this.textStart = this.pos;
        // copy a run of plain text
        let s = this.pos;
        while (this.pos < this.n) {
          let d = charAt16(src, this.pos);
          if (d == CharCode.HASH || d == CharCode.DOLLAR || d == CharCode.BACKSLASH) break;
          this.pos++;
        }
        this.text.part(src, s, this.pos);
      }
    }
    this.flush(out);
    this.term = TERM_EOF;
    this.termPos = this.pos;
    return out;
  }

  backslash(out: Array<Node>): void {
    let start = this.pos;
    let i = this.pos;
    while (i < this.n && charAt16(this.src, i) == CharCode.BACKSLASH) i++;
    let count = i - start;
    let next = this.c(i);
    if (next == CharCode.DOLLAR) {
      this.pos = i;
      let ref = this.reference(true);
      if (ref !== null) {
        let node = new Node(N.ESCREF, start);
        node.op = count;
        node.a = ref;
        this.flush(out);
        out.push(node);
        return;
      }
      if (this.failed) return;
      this.pos = start;
    } else if (next == CharCode.HASH) {
      let nameStart = i + 1;
      let j = nameStart;
      if (this.c(j) == CharCode.LBRACE) j++;
      let identStart = j;
      while (j < this.n && isIdentPart(charAt16(this.src, j))) j++;
      let name = this.src.substring(identStart, j);
      if (isDirectiveName(name) || this.prog.findMacro(name) !== null) {
        for (let k = 0; k < (count >> 1); k++) this.addText(CharCode.BACKSLASH);
        if (count & 1) {
          // an escaped directive renders as text
          this.pos = i;
          this.addText(CharCode.HASH);
          this.pos = i + 1;
          while (this.pos < j) { this.addText(charAt16(this.src, this.pos)); this.pos++; }
          if (this.c(this.pos) == CharCode.RBRACE && identStart > nameStart) { this.addText(CharCode.RBRACE); this.pos++; }
        } else {
          this.pos = i;
        }
        return;
      }
    }
    for (let k = 0; k < count; k++) this.addText(CharCode.BACKSLASH);
    this.pos = i;
  }

  // Handles '#'. Returns true when a block terminator (#end #else #elseif) was read.
  hash(out: Array<Node>): bool {
    let start = this.pos;
    let next = this.c(start + 1);
    if (next == CharCode.HASH) {
      // ## line comment, newline included
      let i = start + 2;
      while (i < this.n && charAt16(this.src, i) != CharCode.LF) i++;
      this.pos = i < this.n ? i + 1 : i;
      return false;
    }
    if (next == CharCode.STAR) {
      let i = this.src.indexOf("*#", start + 2);
      if (i < 0) { this.fail(E.E_UNCLOSED_COMMENT, start); return false; }
      this.pos = i + 2;
      return false;
    }
    if (next == CharCode.LBRACKET && this.c(start + 2) == CharCode.LBRACKET) {
      let i = this.src.indexOf("]]#", start + 3);
      if (i < 0) { this.fail(E.E_UNCLOSED_UNPARSED, start); return false; }
      if (this.text.len == 0) this.textStart = start;
      this.text.part(this.src, start + 3, i);
      this.pos = i + 3;
      return false;
    }
    let i = start + 1;
    let formal = false;
    if (next == CharCode.LBRACE) { formal = true; i++; }
    if (!isIdentStart(this.c(i))) { this.pos = start + 1; this.addTextAt(CharCode.HASH, start); return false; }
    let nameStart = i;
    // directive names are letters only: "#end-" is #end followed by "-"
    while (i < this.n && isIdentPart(charAt16(this.src, i)) && charAt16(this.src, i) != CharCode.MINUS) i++;
    let name = this.src.substring(nameStart, i);
    if (formal) {
      if (this.c(i) != CharCode.RBRACE) { this.pos = start + 1; this.addTextAt(CharCode.HASH, start); return false; }
      i++;
    }
    if (name == "set") {
      // #set eats the spaces and tabs in front of it
      let l = this.text.len;
      while (l > 0) {
        let c = <i32>load<u16>(this.text.ptr + (<usize>(l - 1) << 1));
        if (c == CharCode.SPACE || c == CharCode.TAB) l--; else break;
      }
      this.text.len = l;
      this.flush(out);
      this.pos = i;
      this.setDirective(out, start);
      return false;
    }
    if (name == "if") { this.flush(out); this.pos = i; this.ifDirective(out, start); return false; }
    if (name == "foreach") { this.flush(out); this.pos = i; this.foreachDirective(out, start); return false; }
    if (name == "end" || name == "else") {
      this.flush(out);
      this.pos = i;
      this.gobbleNewline();
      this.term = name == "end" ? TERM_END : TERM_ELSE;
      this.termPos = start;
      return true;
    }
    if (name == "elseif") {
      this.flush(out);
      this.pos = i;
      this.termCond = this.parenExpr(start);
      this.gobbleNewline();
      this.term = TERM_ELSEIF;
      this.termPos = start;
      return true;
    }
    if (name == "break" || name == "stop") {
      this.flush(out);
      this.pos = i;
      // #break($foreach): the scope argument is accepted and ignored
      let save = this.pos;
      this.skipSpaces();
      if (this.c(this.pos) == CharCode.LPAREN) {
        let close = this.src.indexOf(")", this.pos);
        if (close < 0) { this.fail(E.E_EXPECTED_RPAREN, this.pos); return false; }
        this.pos = close + 1;
      } else this.pos = save;
      out.push(new Node(name == "break" ? N.BREAK : N.STOP, start));
      return false;
    }
    if (name == "macro") { this.flush(out); this.pos = i; this.macroDirective(start); return false; }
    if (name == "define") { this.flush(out); this.pos = i; this.defineDirective(out, start); return false; }
    // a macro call: #name( args ), resolved when rendering so it may come before its #macro
    let j = i;
    while (j < this.n && (charAt16(this.src, j) == CharCode.SPACE || charAt16(this.src, j) == CharCode.TAB)) j++;
    if (this.c(j) == CharCode.LPAREN) {
      this.flush(out);
      this.pos = j + 1;
      let call = new Node(N.MACRO_CALL, start);
      call.s = name;
      call.list = new Array<Node>();
      while (true) {
        this.skipWs();
        if (this.failed) return false;
        let c = this.c(this.pos);
        if (c == CharCode.RPAREN) { this.pos++; break; }
        if (c == CharCode.COMMA) { this.pos++; continue; }
        if (c < 0) { this.fail(E.E_EXPECTED_RPAREN, this.pos); return false; }
        let arg = this.primary();
        if (arg === null) return false;
        call.list!.push(arg);
      }
      // the source text, rendered as is when no such macro exists
      call.a = new Node(N.LIT, start);
      call.a!.value = fromString(this.src.substring(start, this.pos));
      this.gobbleNewline();
      out.push(call);
      return false;
    }
    // not a directive: plain text
    this.pos = start + 1;
    this.addTextAt(CharCode.HASH, start);
    return false;
  }

  addTextAt(c: i32, at: i32): void {
    if (this.text.len == 0) this.textStart = at;
    this.text.ch(c);
  }

  parenExpr(dirPos: i32): Node | null {
    this.skipSpaces();
    if (this.c(this.pos) != CharCode.LPAREN) { this.fail(E.E_EXPECTED_LPAREN, dirPos); return null; }
    this.pos++;
    let e = this.expr();
    if (e === null) return null;
    this.skipWs();
    if (this.c(this.pos) != CharCode.RPAREN) { this.fail(E.E_EXPECTED_RPAREN, this.pos); return null; }
    this.pos++;
    return e;
  }

  setDirective(out: Array<Node>, start: i32): void {
    this.skipSpaces();
    if (this.c(this.pos) != CharCode.LPAREN) { this.fail(E.E_EXPECTED_LPAREN, start); return; }
    this.pos++;
    this.skipWs();
    if (this.c(this.pos) != CharCode.DOLLAR) { this.fail(E.E_EXPECTED_REF, this.pos); return; }
    let lhs = this.reference(false);
    if (lhs === null) { this.fail(E.E_EXPECTED_REF, this.pos); return; }
    this.skipWs();
    if (this.c(this.pos) != CharCode.EQ) { this.fail(E.E_EXPECTED_EQUALS, this.pos); return; }
    this.pos++;
    let rhs = this.expr();
    if (rhs === null) return;
    this.skipWs();
    if (this.c(this.pos) != CharCode.RPAREN) { this.fail(E.E_EXPECTED_RPAREN, this.pos); return; }
    this.pos++;
    this.gobbleNewline();
    let node = new Node(N.SET, start);
    node.a = lhs;
    node.b = rhs;
    out.push(node);
  }

  ifDirective(out: Array<Node>, start: i32): void {
    let cond = this.parenExpr(start);
    if (cond === null) return;
    this.gobbleNewline();
    let node = new Node(N.IF, start);
    node.list = new Array<Node>();
    node.blocks = new Array<Array<Node>>();
    node.list!.push(cond);
    while (true) {
      let body = this.parseBlock();
      if (this.failed) return;
      node.blocks!.push(body);
      if (this.term == TERM_ELSEIF) {
        let c = this.termCond;
        if (c === null) return;
        node.list!.push(c);
        continue;
      }
      if (this.term == TERM_ELSE) {
        let elseBody = this.parseBlock();
        if (this.failed) return;
        if (this.term != TERM_END) {
          this.fail(this.term == TERM_EOF ? E.E_UNCLOSED_BLOCK : E.E_UNEXPECTED_ELSE, this.term == TERM_EOF ? start : this.termPos);
          return;
        }
        node.elseBody = elseBody;
        break;
      }
      if (this.term == TERM_END) break;
      this.fail(E.E_UNCLOSED_BLOCK, start);
      return;
    }
    out.push(node);
  }

  // parses a block that must end with #end
  blockToEnd(start: i32): Array<Node> | null {
    let body = this.parseBlock();
    if (this.failed) return null;
    if (this.term == TERM_END) return body;
    if (this.term == TERM_EOF) this.fail(E.E_UNCLOSED_BLOCK, start);
    else this.fail(E.E_UNEXPECTED_ELSE, this.termPos);
    return null;
  }

  foreachDirective(out: Array<Node>, start: i32): void {
    this.skipSpaces();
    if (this.c(this.pos) != CharCode.LPAREN) { this.fail(E.E_EXPECTED_LPAREN, start); return; }
    this.pos++;
    this.skipWs();
    if (this.c(this.pos) != CharCode.DOLLAR) { this.fail(E.E_EXPECTED_REF, this.pos); return; }
    let v = this.reference(false);
    if (v === null || v.list!.length != 0) { this.fail(E.E_EXPECTED_REF, this.pos); return; }
    this.skipWs();
    if (!(this.c(this.pos) == 0x69 && this.c(this.pos + 1) == 0x6e && !isIdentPart(this.c(this.pos + 2)))) {
      this.fail(E.E_EXPECTED_IN, this.pos);
      return;
    }
    this.pos += 2;
    let iter = this.expr();
    if (iter === null) return;
    this.skipWs();
    if (this.c(this.pos) != CharCode.RPAREN) { this.fail(E.E_EXPECTED_RPAREN, this.pos); return; }
    this.pos++;
    this.gobbleNewline();
    let node = new Node(N.FOREACH, start);
    node.slot = v.slot;
    node.a = iter;
    // $foreach, $velocityCount and $velocityHasNext (Velocity 1.7 names) always get slots inside a loop
    this.prog.slotOf("foreach");
    this.prog.slotOf("velocityCount");
    this.prog.slotOf("velocityHasNext");
    let body = this.blockToEnd(start);
    if (body === null) return;
    node.body = body;
    out.push(node);
  }

  macroDirective(start: i32): void {
    this.skipSpaces();
    if (this.c(this.pos) != CharCode.LPAREN) { this.fail(E.E_EXPECTED_LPAREN, start); return; }
    this.pos++;
    this.skipWs();
    let s = this.pos;
    while (this.pos < this.n && isIdentPart(charAt16(this.src, this.pos))) this.pos++;
    if (this.pos == s || !isIdentStart(charAt16(this.src, s))) { this.fail(E.E_EXPECTED_NAME, s); return; }
    let name = this.src.substring(s, this.pos);
    if (isDirectiveName(name)) { this.fail(E.E_RESERVED_MACRO, s); return; }
    let m = new Macro(name);
    while (true) {
      this.skipWs();
      let c = this.c(this.pos);
      if (c == CharCode.RPAREN) { this.pos++; break; }
      if (c == CharCode.COMMA) { this.pos++; continue; }
      if (c != CharCode.DOLLAR) { this.fail(E.E_EXPECTED_RPAREN, this.pos); return; }
      let p = this.reference(false);
      if (p === null || p.list!.length != 0) { this.fail(E.E_EXPECTED_REF, this.pos); return; }
      m.params.push(p.slot);
    }
    this.gobbleNewline();
    let body = this.blockToEnd(start);
    if (body === null) return;
    m.body = body;
    // a later #macro of the same name replaces the earlier one
    let macros = this.prog.macros;
    for (let i = 0; i < macros.length; i++) if (macros[i].name == name) { macros[i] = m; return; }
    macros.push(m);
  }

  defineDirective(out: Array<Node>, start: i32): void {
    this.skipSpaces();
    if (this.c(this.pos) != CharCode.LPAREN) { this.fail(E.E_EXPECTED_LPAREN, start); return; }
    this.pos++;
    this.skipWs();
    let v = this.reference(false);
    if (v === null || v.list!.length != 0) { this.fail(E.E_EXPECTED_REF, this.pos); return; }
    this.skipWs();
    if (this.c(this.pos) != CharCode.RPAREN) { this.fail(E.E_EXPECTED_RPAREN, this.pos); return; }
    this.pos++;
    this.gobbleNewline();
    let body = this.blockToEnd(start);
    if (body === null) return;
    let node = new Node(N.DEFINE, start);
    node.slot = v.slot;
    node.body = body;
    out.push(node);
  }

  // ---- references ----

  // $name, $!name, ${name}, $!{name}, with .prop, .method(args) and [index] steps.
  // Returns null (pos unchanged) when the text is not a reference.
  reference(inText: bool): Node | null {
    let start = this.pos;
    let i = start + 1;
    let flags = 0;
    if (this.c(i) == CharCode.BANG) { flags |= FLAG_QUIET; i++; }
    let formal = false;
    if (this.c(i) == CharCode.LBRACE) { formal = true; i++; }
    if (!isIdentStart(this.c(i))) return null;
    let s = i;
    while (i < this.n && isIdentPart(charAt16(this.src, i))) i++;
    let node = new Node(N.REF, start);
    node.flags = flags;
    node.slot = this.prog.slotOf(this.src.substring(s, i));
    let steps = new Array<Node>();
    node.list = steps;
    this.pos = i;
    while (true) {
      let c = this.c(this.pos);
      if (c == CharCode.DOT && isIdentStart(this.c(this.pos + 1))) {
        let ns = this.pos + 1;
        let j = ns;
        while (j < this.n && isIdentPart(charAt16(this.src, j))) j++;
        let name = this.src.substring(ns, j);
        if (this.c(j) == CharCode.LPAREN) {
          this.pos = j + 1;
          let step = new Node(N.METHOD, ns);
          step.s = name;
          step.op = methodId(name);
          this.prog.noteName(step.op);
          step.list = new Array<Node>();
          this.skipWs();
          if (this.c(this.pos) == CharCode.RPAREN) this.pos++;
          else {
            while (true) {
              let arg = this.expr();
              if (arg === null) return null;
              step.list!.push(arg);
              this.skipWs();
              let d = this.c(this.pos);
              if (d == CharCode.COMMA) { this.pos++; continue; }
              if (d == CharCode.RPAREN) { this.pos++; break; }
              this.fail(E.E_EXPECTED_RPAREN, this.pos);
              return null;
            }
          }
          steps.push(step);
        } else {
          let step = new Node(N.PROP, ns);
          step.s = name;
          step.op = methodId(name);
          this.prog.noteName(step.op);
          this.prog.propNames.push(name);
          steps.push(step);
          this.pos = j;
        }
        continue;
      }
      if (c == CharCode.LBRACKET) {
        let save = this.pos;
        this.pos++;
        let wasFailed = this.failed;
        let idx = this.expr();
        this.skipWs();
        if (idx !== null && this.c(this.pos) == CharCode.RBRACKET) {
          this.pos++;
          let step = new Node(N.INDEX, save);
          step.a = idx;
          steps.push(step);
          continue;
        }
        if (!inText) { this.fail(E.E_EXPECTED_RBRACKET, this.pos); return null; }
        // in text, "$a[" that is not an index is just text
        if (!wasFailed) { this.failed = false; errorPos = -1; }
        this.pos = save;
      }
      break;
    }
    if (formal) {
      if (this.c(this.pos) != CharCode.RBRACE) {
        if (!inText) { this.fail(E.E_EXPECTED_RBRACE, this.pos); return null; }
        this.pos = start;
        return null;
      }
      this.pos++;
    }
    node.s = this.src.substring(start, this.pos);
    return node;
  }

  // ---- expressions ----

  skipWs(): void {
    while (this.pos < this.n && isSpace(charAt16(this.src, this.pos))) this.pos++;
  }
  skipSpaces(): void {
    while (this.pos < this.n) {
      let c = charAt16(this.src, this.pos);
      if (c == CharCode.SPACE || c == CharCode.TAB) this.pos++; else break;
    }
  }

  word(w: string): bool {
    let l = w.length;
    if (this.pos + l > this.n) return false;
    for (let k = 0; k < l; k++) if (charAt16(this.src, this.pos + k) != charAt16(w, k)) return false;
    if (isIdentPart(this.c(this.pos + l))) return false;
    this.pos += l;
    return true;
  }

  expr(): Node | null {
    let left = this.andExpr();
    while (left !== null) {
      this.skipWs();
      let at = this.pos;
      if (this.c(this.pos) == CharCode.PIPE && this.c(this.pos + 1) == CharCode.PIPE) this.pos += 2;
      else if (!this.word("or")) break;
      let right = this.andExpr();
      if (right === null) return null;
      left = bin(Op.OR, left, right, at);
    }
    return left;
  }

  andExpr(): Node | null {
    let left = this.eqExpr();
    while (left !== null) {
      this.skipWs();
      let at = this.pos;
      if (this.c(this.pos) == CharCode.AMP && this.c(this.pos + 1) == CharCode.AMP) this.pos += 2;
      else if (!this.word("and")) break;
      let right = this.eqExpr();
      if (right === null) return null;
      left = bin(Op.AND, left, right, at);
    }
    return left;
  }

  eqExpr(): Node | null {
    let left = this.relExpr();
    while (left !== null) {
      this.skipWs();
      let at = this.pos;
      let op = 0;
      let c = this.c(this.pos), d = this.c(this.pos + 1);
      if (c == CharCode.EQ && d == CharCode.EQ) { op = Op.EQ; this.pos += 2; }
      else if (c == CharCode.BANG && d == CharCode.EQ) { op = Op.NE; this.pos += 2; }
      else if (this.word("eq")) op = Op.EQ;
      else if (this.word("ne")) op = Op.NE;
      else break;
      let right = this.relExpr();
      if (right === null) return null;
      left = bin(op, left, right, at);
    }
    return left;
  }

  relExpr(): Node | null {
    let left = this.addExpr();
    while (left !== null) {
      this.skipWs();
      let at = this.pos;
      let op = 0;
      let c = this.c(this.pos), d = this.c(this.pos + 1);
      if (c == CharCode.LT) { if (d == CharCode.EQ) { op = Op.LE; this.pos += 2; } else { op = Op.LT; this.pos++; } }
      else if (c == CharCode.GT) { if (d == CharCode.EQ) { op = Op.GE; this.pos += 2; } else { op = Op.GT; this.pos++; } }
      else if (this.word("lt")) op = Op.LT;
      else if (this.word("gt")) op = Op.GT;
      else if (this.word("le")) op = Op.LE;
      else if (this.word("ge")) op = Op.GE;
      else break;
      let right = this.addExpr();
      if (right === null) return null;
      left = bin(op, left, right, at);
    }
    return left;
  }

  addExpr(): Node | null {
    let left = this.mulExpr();
    while (left !== null) {
      this.skipWs();
      let at = this.pos;
      let c = this.c(this.pos);
      let op = 0;
      if (c == CharCode.PLUS) op = Op.ADD;
      else if (c == CharCode.MINUS) op = Op.SUB;
      else break;
      this.pos++;
      let right = this.mulExpr();
      if (right === null) return null;
      left = bin(op, left, right, at);
    }
    return left;
  }

  mulExpr(): Node | null {
    let left = this.unary();
    while (left !== null) {
      this.skipWs();
      let at = this.pos;
      let c = this.c(this.pos);
      let op = 0;
      if (c == CharCode.STAR) op = Op.MUL;
      else if (c == CharCode.SLASH) op = Op.DIV;
      else if (c == CharCode.PERCENT) op = Op.MOD;
      else break;
      this.pos++;
      let right = this.unary();
      if (right === null) return null;
      left = bin(op, left, right, at);
    }
    return left;
  }

  unary(): Node | null {
    this.skipWs();
    let at = this.pos;
    if (this.c(this.pos) == CharCode.BANG && this.c(this.pos + 1) != CharCode.EQ) {
      this.pos++;
      let a = this.unary();
      if (a === null) return null;
      let node = new Node(N.NOT, at);
      node.a = a;
      return node;
    }
    if (this.word("not")) {
      let a = this.unary();
      if (a === null) return null;
      let node = new Node(N.NOT, at);
      node.a = a;
      return node;
    }
    if (this.c(this.pos) == CharCode.MINUS && !isDigit(this.c(this.pos + 1))) {
      this.pos++;
      let a = this.unary();
      if (a === null) return null;
      let node = new Node(N.NEG, at);
      node.a = a;
      return node;
    }
    return this.primary();
  }

  primary(): Node | null {
    this.skipWs();
    let at = this.pos;
    let c = this.c(this.pos);
    if (c == CharCode.DOLLAR) {
      let r = this.reference(false);
      if (r === null && !this.failed) this.fail(E.E_EXPECTED_REF, at);
      return r;
    }
    if (c == CharCode.SQUOTE) return this.singleQuoted();
    if (c == CharCode.DQUOTE) return this.doubleQuoted();
    if (isDigit(c) || (c == CharCode.MINUS && isDigit(this.c(this.pos + 1)))) return this.number();
    if (c == CharCode.LPAREN) {
      this.pos++;
      let e = this.expr();
      if (e === null) return null;
      this.skipWs();
      if (this.c(this.pos) != CharCode.RPAREN) { this.fail(E.E_EXPECTED_RPAREN, this.pos); return null; }
      this.pos++;
      return e;
    }
    if (c == CharCode.LBRACKET) return this.listLiteral();
    if (c == CharCode.LBRACE) return this.mapLiteral();
    if (this.word("true")) return lit(TRUE, at);
    if (this.word("false")) return lit(FALSE, at);
    if (this.word("null")) return lit(null, at);
    this.fail(E.E_EXPECTED_EXPR, at);
    return null;
  }

  number(): Node | null {
    let at = this.pos;
    let i = this.pos;
    if (this.c(i) == CharCode.MINUS) i++;
    while (isDigit(this.c(i))) i++;
    let isFloat = false;
    if (this.c(i) == CharCode.DOT && isDigit(this.c(i + 1))) {
      isFloat = true;
      i++;
      while (isDigit(this.c(i))) i++;
    }
    if ((this.c(i) | 0x20) == 0x65 && (isDigit(this.c(i + 1)) || ((this.c(i + 1) == CharCode.PLUS || this.c(i + 1) == CharCode.MINUS) && isDigit(this.c(i + 2))))) {
      isFloat = true;
      i += 2;
      while (isDigit(this.c(i))) i++;
    }
    let text = this.src.substring(this.pos, i);
    this.pos = i;
    if (isFloat) return lit(fromDouble(parseDouble(text)), at);
    if (text.length > 19) { this.fail(E.E_BAD_NUMBER, at); return null; }
    return lit(fromInt(I64.parseInt(text, 10)), at);
  }

  singleQuoted(): Node | null {
    let at = this.pos;
    let sb = new SB(32);
    let i = this.pos + 1;
    while (true) {
      if (i >= this.n) { this.fail(E.E_UNCLOSED_STRING, at); return null; }
      let c = charAt16(this.src, i);
      if (c == CharCode.SQUOTE) {
        if (this.c(i + 1) == CharCode.SQUOTE) { sb.ch(c); i += 2; continue; } // '' is a quote
        break;
      }
      sb.ch(c);
      i++;
    }
    this.pos = i + 1;
    return lit(fromString(sb.toString()), at);
  }

  doubleQuoted(): Node | null {
    let at = this.pos;
    let i = this.pos + 1;
    let doubled = false;
    let interpolate = false;
    while (true) {
      if (i >= this.n) { this.fail(E.E_UNCLOSED_STRING, at); return null; }
      let c = charAt16(this.src, i);
      if (c == CharCode.DQUOTE) {
        if (this.c(i + 1) == CharCode.DQUOTE) { doubled = true; i += 2; continue; }
        break;
      }
      if (c == CharCode.DOLLAR || c == CharCode.HASH) interpolate = true;
      i++;
    }
    let content = this.src.substring(this.pos + 1, i);
    if (doubled) content = content.replaceAll("\"\"", "\"");
    this.pos = i + 1;
    if (!interpolate) return lit(fromString(content), at);
    // an interpolated string is a small template of its own
    let sub = new Parser(content, content.length, this.prog);
    let body = sub.parseBlock();
    if (sub.failed) { errorPos = at + 1 + errorPos; this.failed = true; return null; }
    if (sub.term != TERM_EOF) { this.fail(sub.term == TERM_END ? E.E_UNEXPECTED_END : E.E_UNEXPECTED_ELSE, at + 1 + sub.termPos); return null; }
    let node = new Node(N.STR, at);
    node.body = body;
    return node;
  }

  listLiteral(): Node | null {
    let at = this.pos;
    this.pos++;
    this.skipWs();
    let node = new Node(N.LIST, at);
    node.list = new Array<Node>();
    if (this.c(this.pos) == CharCode.RBRACKET) { this.pos++; return node; }
    let first = this.expr();
    if (first === null) return null;
    this.skipWs();
    if (this.c(this.pos) == CharCode.DOT && this.c(this.pos + 1) == CharCode.DOT) {
      this.pos += 2;
      let last = this.expr();
      if (last === null) return null;
      this.skipWs();
      if (this.c(this.pos) != CharCode.RBRACKET) { this.fail(E.E_EXPECTED_RBRACKET, this.pos); return null; }
      this.pos++;
      let r = new Node(N.RANGE, at);
      r.a = first;
      r.b = last;
      return r;
    }
    node.list!.push(first);
    while (true) {
      this.skipWs();
      let c = this.c(this.pos);
      if (c == CharCode.RBRACKET) { this.pos++; return node; }
      if (c != CharCode.COMMA) { this.fail(E.E_EXPECTED_RBRACKET, this.pos); return null; }
      this.pos++;
      let item = this.expr();
      if (item === null) return null;
      node.list!.push(item);
    }
  }

  mapLiteral(): Node | null {
    let at = this.pos;
    this.pos++;
    let node = new Node(N.MAP, at);
    node.list = new Array<Node>();
    node.list2 = new Array<Node>();
    this.skipWs();
    if (this.c(this.pos) == CharCode.RBRACE) { this.pos++; return node; }
    while (true) {
      let k = this.expr();
      if (k === null) return null;
      this.skipWs();
      if (this.c(this.pos) != CharCode.COLON) { this.fail(E.E_EXPECTED_COLON, this.pos); return null; }
      this.pos++;
      let v = this.expr();
      if (v === null) return null;
      node.list!.push(k);
      node.list2!.push(v);
      this.skipWs();
      let c = this.c(this.pos);
      if (c == CharCode.RBRACE) { this.pos++; return node; }
      if (c != CharCode.COMMA) { this.fail(E.E_EXPECTED_RBRACE, this.pos); return null; }
      this.pos++;
    }
  }
}

function bin(op: i32, a: Node, b: Node, at: i32): Node {
  let node = new Node(N.BIN, at);
  node.op = op;
  node.a = a;
  node.b = b;
  return node;
}

function lit(v: Value | null, at: i32): Node {
  let node = new Node(N.LIT, at);
  node.value = v;
  return node;
}

export function isDirectiveName(name: string): bool {
  return name == "set" || name == "if" || name == "elseif" || name == "else" || name == "end" ||
    name == "foreach" || name == "break" || name == "stop" || name == "macro" || name == "define";
}

// Returns the program, or null with errorMessage/errorPos set.
export function parseTemplate(src: string): Program | null {
  errorMessage = "";
  errorPos = -1;
  let prog = new Program();
  let p = new Parser(src, src.length, prog);
  let body = p.parseBlock();
  if (p.failed) return null;
  if (p.term != TERM_EOF) {
    errorMessage = p.term == TERM_END ? E.E_UNEXPECTED_END : E.E_UNEXPECTED_ELSE;
    errorPos = p.termPos;
    return null;
  }
  prog.body = body;
  return prog;
}
