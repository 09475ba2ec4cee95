/*
 * libsrtp 3.x API adapter over libsrtp 2.x (Debian's libsrtp2-dev).
 *
 * mediasoup >= 3.16 is written against versatica's libsrtp 3.0.0-beta. The
 * only API differences that mediasoup relies on are:
 *   - srtp_protect()/srtp_unprotect()/srtp_protect_rtcp()/srtp_unprotect_rtcp()
 *     take separate const input / output buffers and size_t lengths (the
 *     output length is in/out: buffer capacity in, packet length out), and
 *     the protect functions take an mki_index.
 *   - srtp_remove_stream() was renamed srtp_stream_remove().
 *   - two extra error codes: srtp_err_status_buffer_small and
 *     srtp_err_status_cryptex_err.
 * Everything else mediasoup uses (srtp_policy_t fields, srtp_create,
 * srtp_dealloc, event handler, crypto policy setters, SRTP_MAX_TRAILER_LEN)
 * is identical in libsrtp 2.x.
 *
 * The 3.x-style functions are C++ inline overloads (C++ allows overloading an
 * extern "C" function with C++-linkage functions taking other parameters).
 * They copy the input into the output buffer (unless it is the same buffer)
 * and run libsrtp 2's in-place routine there, so the caller's input packet is
 * never modified, as with libsrtp 3.
 */
#ifndef MS_LIBSRTP3_ADAPTER_SRTP_H
#define MS_LIBSRTP3_ADAPTER_SRTP_H

#include <srtp2/srtp.h>

#ifdef __cplusplus

#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstring>

/* Error codes added in libsrtp 3 (same values as in libsrtp 3). */
#define srtp_err_status_buffer_small (static_cast<srtp_err_status_t>(28))
#define srtp_err_status_cryptex_err (static_cast<srtp_err_status_t>(29))

namespace ms_libsrtp3_adapter
{
	// Largest trailer libsrtp 2 may append: auth tag + MKI, and for SRTCP
	// additionally the 4-byte E-flag/index word.
	static constexpr size_t MaxRtpTrailer{ SRTP_MAX_TRAILER_LEN };
	static constexpr size_t MaxRtcpTrailer{ SRTP_MAX_TRAILER_LEN + 4 };

	inline srtp_err_status_t prepare(
	  const uint8_t* in, size_t inLen, uint8_t* out, size_t outCapacity, size_t trailer)
	{
		if (in == nullptr || out == nullptr)
			return srtp_err_status_bad_param;
		if (inLen > static_cast<size_t>(INT_MAX) - trailer)
			return srtp_err_status_bad_param;
		if (outCapacity < inLen + trailer)
			return srtp_err_status_buffer_small;
		if (out != in)
			std::memmove(out, in, inLen);

		return srtp_err_status_ok;
	}

	inline srtp_err_status_t prepareUnprotect(
	  const uint8_t* in, size_t inLen, uint8_t* out, size_t outCapacity)
	{
		if (in == nullptr || out == nullptr)
			return srtp_err_status_bad_param;
		if (inLen > static_cast<size_t>(INT_MAX))
			return srtp_err_status_bad_param;
		if (outCapacity < inLen)
			return srtp_err_status_buffer_small;
		if (out != in)
			std::memmove(out, in, inLen);

		return srtp_err_status_ok;
	}
} // namespace ms_libsrtp3_adapter

inline srtp_err_status_t srtp_protect(
  srtp_t ctx, const uint8_t* rtp, size_t rtp_len, uint8_t* srtp, size_t* srtp_len, size_t mki_index)
{
	if (srtp_len == nullptr)
		return srtp_err_status_bad_param;

	srtp_err_status_t err = ms_libsrtp3_adapter::prepare(
	  rtp, rtp_len, srtp, *srtp_len, ms_libsrtp3_adapter::MaxRtpTrailer);

	if (err != srtp_err_status_ok)
		return err;

	int len = static_cast<int>(rtp_len);

	err = srtp_protect_mki(
	  ctx, srtp, &len, /*use_mki*/ mki_index != 0 ? 1u : 0u, static_cast<unsigned int>(mki_index));

	if (err == srtp_err_status_ok)
		*srtp_len = static_cast<size_t>(len);

	return err;
}

inline srtp_err_status_t srtp_unprotect(
  srtp_t ctx, const uint8_t* srtp, size_t srtp_len, uint8_t* rtp, size_t* rtp_len)
{
	if (rtp_len == nullptr)
		return srtp_err_status_bad_param;

	srtp_err_status_t err = ms_libsrtp3_adapter::prepareUnprotect(srtp, srtp_len, rtp, *rtp_len);

	if (err != srtp_err_status_ok)
		return err;

	int len = static_cast<int>(srtp_len);

	err = srtp_unprotect(ctx, static_cast<void*>(rtp), &len);

	if (err == srtp_err_status_ok)
		*rtp_len = static_cast<size_t>(len);

	return err;
}

inline srtp_err_status_t srtp_protect_rtcp(
  srtp_t ctx, const uint8_t* rtcp, size_t rtcp_len, uint8_t* srtcp, size_t* srtcp_len, size_t mki_index)
{
	if (srtcp_len == nullptr)
		return srtp_err_status_bad_param;

	srtp_err_status_t err = ms_libsrtp3_adapter::prepare(
	  rtcp, rtcp_len, srtcp, *srtcp_len, ms_libsrtp3_adapter::MaxRtcpTrailer);

	if (err != srtp_err_status_ok)
		return err;

	int len = static_cast<int>(rtcp_len);

	err = srtp_protect_rtcp_mki(
	  ctx, srtcp, &len, /*use_mki*/ mki_index != 0 ? 1u : 0u, static_cast<unsigned int>(mki_index));

	if (err == srtp_err_status_ok)
		*srtcp_len = static_cast<size_t>(len);

	return err;
}

inline srtp_err_status_t srtp_unprotect_rtcp(
  srtp_t ctx, const uint8_t* srtcp, size_t srtcp_len, uint8_t* rtcp, size_t* rtcp_len)
{
	if (rtcp_len == nullptr)
		return srtp_err_status_bad_param;

	srtp_err_status_t err =
	  ms_libsrtp3_adapter::prepareUnprotect(srtcp, srtcp_len, rtcp, *rtcp_len);

	if (err != srtp_err_status_ok)
		return err;

	int len = static_cast<int>(srtcp_len);

	err = srtp_unprotect_rtcp(ctx, static_cast<void*>(rtcp), &len);

	if (err == srtp_err_status_ok)
		*rtcp_len = static_cast<size_t>(len);

	return err;
}

/* libsrtp 3 renamed srtp_remove_stream() (same semantics: SSRC in network
 * byte order). */
inline srtp_err_status_t srtp_stream_remove(srtp_t session, uint32_t ssrc)
{
	return srtp_remove_stream(session, ssrc);
}

#endif /* __cplusplus */

#endif /* MS_LIBSRTP3_ADAPTER_SRTP_H */
