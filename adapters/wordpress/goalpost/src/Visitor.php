<?php
/**
 * The visitor of the current request, as Goalpost needs it to join their browser session.
 *
 * @package Goalpost
 */

namespace Goalpost;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * The visitor's address (from the configured header) and user agent.
 */
final class Visitor {

	/**
	 * The visitor's IP address: the first valid address in the configured $_SERVER key,
	 * else REMOTE_ADDR, else ''.
	 */
	public static function ip(): string {
		foreach ( array_unique( array( Config::ip_header(), 'REMOTE_ADDR' ) ) as $key ) {
			if ( empty( $_SERVER[ $key ] ) || ! is_string( $_SERVER[ $key ] ) ) {
				continue;
			}
			// Proxies append: the first entry of X-Forwarded-For style lists is the client.
			$candidates = explode( ',', sanitize_text_field( wp_unslash( $_SERVER[ $key ] ) ) );
			$ip         = filter_var( trim( $candidates[0] ), FILTER_VALIDATE_IP );
			if ( false !== $ip ) {
				return $ip;
			}
		}
		return '';
	}

	/** The visitor's user agent ('' when none was sent). */
	public static function user_agent(): string {
		if ( empty( $_SERVER['HTTP_USER_AGENT'] ) || ! is_string( $_SERVER['HTTP_USER_AGENT'] ) ) {
			return '';
		}
		return substr( sanitize_text_field( wp_unslash( $_SERVER['HTTP_USER_AGENT'] ) ), 0, 1000 );
	}
}
